using VirtTools.Hypervisor;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Hypervisor;

public sealed class VirtHostValidatorTests
{
    private static VirtHostCheck Check(IEnumerable<VirtHostCheck> checks, string name) => checks.Single(c => c.Name == name);

    [Fact]
    public void Every_check_that_does_not_pass_has_a_hint()
    {
        foreach (var root in new[] { SystemRoot.Live, new SystemRoot(CapturedFixture.Shared) })
            foreach (var check in VirtHostValidator.Run(root).Where(c => c.Result != CheckResult.Pass))
                Assert.False(string.IsNullOrWhiteSpace(check.Hint), $"{check} on {root} has no hint");
    }

    [Fact]
    public void On_this_machine_dev_kvm_passes_and_the_missing_IOMMU_warns_with_the_kernel_parameter()
    {
        var checks = VirtHostValidator.Run(SystemRoot.Live).ToList();
        Assert.Equal(CheckResult.Pass, Check(checks, "/dev/kvm exists").Result);
        Assert.Equal(CheckResult.Pass, Check(checks, "/dev/kvm accessible").Result);
        Assert.Equal(CheckResult.Pass, Check(checks, "/dev/net/tun exists").Result);
        Assert.Equal(CheckResult.Pass, Check(checks, "KSM available").Result);
        var iommu = Check(checks, "IOMMU groups");
        Assert.Equal(CheckResult.Warn, iommu.Result);
        Assert.Contains("iommu=on", iommu.Hint);
    }

    [Fact]
    public void On_the_captured_tree_missing_proc_and_dev_are_Skip_and_the_IOMMU_and_usbip_pass()
    {
        var checks = VirtHostValidator.Run(new SystemRoot(CapturedFixture.Shared)).ToList();
        Assert.Equal(CheckResult.Skip, Check(checks, "Hardware virtualization").Result);
        Assert.Equal(CheckResult.Skip, Check(checks, "/dev/kvm exists").Result);
        Assert.DoesNotContain(checks, c => c.Result == CheckResult.Fail);
        Assert.Equal(CheckResult.Pass, Check(checks, "IOMMU enabled").Result);
        Assert.Equal(CheckResult.Pass, Check(checks, "usbip-host loaded").Result);
        Assert.Equal(CheckResult.Pass, Check(checks, "vhci-hcd loaded").Result);
    }

    [Fact]
    public void A_cpu_without_vmx_or_svm_and_no_dev_kvm_fails_and_a_missing_tun_fails()
    {
        using var tree = new TemporaryTree("validate").File("/proc/cpuinfo", "flags\t: fpu sse2\n").Directory("/dev");
        var checks = VirtHostValidator.Run(new SystemRoot(tree.Path)).ToList();
        Assert.Equal(CheckResult.Fail, Check(checks, "Hardware virtualization").Result);
        Assert.Equal(CheckResult.Fail, Check(checks, "/dev/kvm exists").Result);
        Assert.Contains("kvm_intel", Check(checks, "/dev/kvm exists").Hint);
        Assert.Equal(CheckResult.Fail, Check(checks, "/dev/net/tun exists").Result);
        Assert.Equal(CheckResult.Warn, Check(checks, "/dev/vhost-net exists").Result);
        Assert.Equal(CheckResult.Warn, Check(checks, "usbip-host loaded").Result);
        Assert.Equal("modprobe usbip-host", Check(checks, "usbip-host loaded").Hint);
    }

    [Fact]
    public void Nested_off_warns_and_an_AMD_firmware_table_suggests_amd_iommu_on()
    {
        using var tree = new TemporaryTree("validate").File("/sys/module/kvm_amd/parameters/nested", "0").File("/sys/firmware/acpi/tables/IVRS", "x");
        var checks = VirtHostValidator.Run(new SystemRoot(tree.Path)).ToList();
        Assert.Equal(CheckResult.Warn, Check(checks, "Nested virtualization").Result);
        var iommu = Check(checks, "IOMMU enabled");
        Assert.Equal(CheckResult.Warn, iommu.Result);
        Assert.Contains("IVRS", iommu.Message);
        Assert.Contains("amd_iommu=on", iommu.Hint);
    }

    [Fact]
    public void An_area_filter_keeps_only_that_area()
    {
        var checks = VirtHostValidator.Run(new SystemRoot(CapturedFixture.Shared), new[] { "usbip" }).ToList();
        Assert.Equal(2, checks.Count);
        Assert.All(checks, c => Assert.Equal("USBIP", c.Area));
    }
}
