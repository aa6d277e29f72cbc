using VirtTools.Sysfs;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.Sandbox;

/// <summary>KSM in a sandbox takes writes as mm/ksm.c does, on the captured 6.1 tree.</summary>
public sealed class SandboxKsmTests : IDisposable
{
    private const string Ksm = "/sys/kernel/mm/ksm";
    private readonly Double _kernel = Double.OnCapturedFixture();

    private void Write(string attribute, string value) => SysfsWriter.Write(_kernel.Root, Ksm + "/" + attribute, value);

    private string? Shown(string attribute) => _kernel.Tree.Read(Ksm + "/" + attribute)?.TrimEnd('\n');

    private KernelErrno Refused(string attribute, string value) =>
        Assert.Throws<KernelWriteException>(() => Write(attribute, value)).Errno;

    [Fact]
    public void Run_2_unmerges_everything_so_the_page_counters_fall_to_zero()
    {
        _kernel.Ksm.Merged(pages: 120, sharing: 900);
        Write("run", "2");
        Assert.Equal("2", Shown("run"));
        Assert.Equal("0", Shown("pages_shared"));
        Assert.Equal("0", Shown("pages_sharing"));
    }

    [Fact]
    public void Run_1_starts_ksmd_and_leaves_the_counters_to_the_scans_that_follow()
    {
        _kernel.Ksm.Merged(pages: 120, sharing: 900);
        Write("run", "1");
        Assert.Equal("1", Shown("run"));
        Assert.Equal("120", Shown("pages_shared"));
    }

    [Theory]
    [InlineData("run", "3")]
    [InlineData("run", "on")]
    [InlineData("pages_to_scan", "-1")]
    [InlineData("max_page_sharing", "1")]
    [InlineData("merge_across_nodes", "2")]
    public void Values_the_kernel_cannot_parse_or_allow_are_EINVAL(string attribute, string value) =>
        Assert.Equal(KernelErrno.EINVAL, Refused(attribute, value));

    [Fact]
    public void Changing_max_page_sharing_while_pages_are_shared_is_EBUSY_and_free_once_unmerged()
    {
        _kernel.Ksm.Merged(pages: 5, sharing: 10);
        Assert.Equal(KernelErrno.EBUSY, Refused("max_page_sharing", "512"));
        Write("run", "2");
        Write("max_page_sharing", "512");
        Assert.Equal("512", Shown("max_page_sharing"));
    }

    public void Dispose() => _kernel.Dispose();
}
