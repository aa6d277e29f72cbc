using VirtTools.Ksm;
using Xunit;

namespace VirtTools.Tests.Engine.Ksm;

public sealed class QemuCommandLineTests
{
    [Theory]
    [InlineData("/usr/bin/qemu-system-x86_64\0-name\0guest=win11,debug-threads=on\0-S\0", "win11")]
    [InlineData("qemu-system-aarch64\0-machine\0virt\0-name\0plain\0", "plain")]
    [InlineData("/usr/libexec/qemu-kvm\0-name\0db,,prod,process=qemu:db\0", "db,prod")]
    [InlineData("qemu-system-x86_64\0-name\0debug-threads=on,guest=late\0", "late")]
    [InlineData("qemu-system-x86_64\0--name\0dashdash\0", "dashdash")]
    public void The_guest_name_comes_from_the_name_option(string cmdline, string expected) =>
        Assert.Equal(expected, QemuCommandLine.VmName(cmdline));

    [Theory]
    [InlineData("/usr/bin/bash\0-name\0notaguest\0")]
    [InlineData("qemu-system-x86_64\0-m\0" + "1024\0")]
    [InlineData("qemu-system-x86_64\0-name\0")]
    [InlineData("")]
    [InlineData(null)]
    public void Other_programs_and_qemu_without_a_name_give_null(string? cmdline) =>
        Assert.Null(QemuCommandLine.VmName(cmdline));
}
