using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Sysfs;

/// <summary>
/// How kernel refusals surface, checked on this machine's real /sys with writes the kernel rejects
/// (so nothing changes): EINVAL and EACCES, plus a missing attribute.
/// </summary>
public sealed class SysfsWriterTests
{
    [Fact]
    public void A_value_the_real_kernel_rejects_is_EINVAL_as_KernelValueRejected()
    {
        // max_page_sharing must be at least 2: the kernel answers EINVAL before looking at anything else.
        var error = Assert.Throws<KernelWriteException>(() => SysfsWriter.Write(SystemRoot.Live, "/sys/kernel/mm/ksm/max_page_sharing", "1"));
        Assert.Equal(KernelErrno.EINVAL, error.Errno);
        Assert.Equal("KernelValueRejected", error.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        Assert.Equal("/sys/kernel/mm/ksm/max_page_sharing", error.SystemPath);
    }

    [Fact]
    public void A_read_only_real_attribute_is_EACCES_as_PermissionDenied()
    {
        var error = Assert.Throws<KernelWriteException>(() => SysfsWriter.Write(SystemRoot.Live, "/sys/kernel/mm/ksm/pages_shared", "0"));
        Assert.Equal(KernelErrno.EACCES, error.Errno);
        Assert.Equal("PermissionDenied", error.ErrorId);
        Assert.Equal(FailureKind.PermissionDenied, error.Kind);
        Assert.NotNull(error.RecommendedAction);
    }

    [Fact]
    public void A_missing_attribute_is_ENOENT_as_KernelAttributeNotFound()
    {
        using var tree = new TemporaryTree("writer");
        var error = Assert.Throws<KernelWriteException>(() => SysfsWriter.Write(new SystemRoot(tree.Path), "/sys/kernel/mm/ksm/run", "1"));
        Assert.Equal(KernelErrno.ENOENT, error.Errno);
        Assert.Equal("KernelAttributeNotFound", error.ErrorId);
    }

    [Theory]
    [InlineData(16, KernelErrno.EBUSY)]
    [InlineData(22, KernelErrno.EINVAL)]
    [InlineData(19, KernelErrno.ENODEV)]
    public void The_errno_of_a_plain_IOException_is_its_HResult(int errno, KernelErrno expected) =>
        Assert.Equal(expected, SysfsWriter.ErrnoOf(new IOException("refused", errno)));

    [Fact]
    public void A_write_to_a_captured_root_replaces_the_whole_file_with_the_value_and_a_newline()
    {
        using var tree = new TemporaryTree("writer");
        tree.File("/sys/kernel/mm/ksm/pages_to_scan", "12345");
        SysfsWriter.Write(new SystemRoot(tree.Path), "/sys/kernel/mm/ksm/pages_to_scan", "7");
        Assert.Equal("7\n", tree.Read("/sys/kernel/mm/ksm/pages_to_scan"));
    }
}
