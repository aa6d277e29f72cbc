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
        foreach (var name in TestMachine.Names)
        {
            using var machine = TestMachine.Open(name);
            AssertEveryNonPassHasAHint(machine.Root);
        }
        AssertEveryNonPassHasAHint(new SystemRoot(CapturedFixture.Shared));
    }

    private static void AssertEveryNonPassHasAHint(SystemRoot root)
    {
        foreach (var check in VirtHostValidator.Run(root).Where(c => c.Result != CheckResult.Pass))
            Assert.False(string.IsNullOrWhiteSpace(check.Hint), $"{check} on {root} has no hint");
    }

    [Theory]
    [MemberData(nameof(TestMachine.All), MemberType = typeof(TestMachine))]
    public void The_checks_follow_the_machine_s_own_files(string machineName)
    {
        using var machine = TestMachine.Open(machineName);
        var checks = VirtHostValidator.Run(machine.Root).ToList();
        bool kvm = machine.Has("/dev/kvm");
        var extension = machine.CpuFlags!.Contains("vmx") || machine.CpuFlags.Contains("svm");

        Assert.Equal(extension ? CheckResult.Pass : kvm ? CheckResult.Warn : CheckResult.Fail, Check(checks, "Hardware virtualization").Result);
        Assert.Equal(kvm ? CheckResult.Pass : CheckResult.Fail, Check(checks, "/dev/kvm exists").Result);
        Assert.Equal(kvm, checks.Any(c => c.Name == "/dev/kvm accessible"));
        if (kvm && machine.IsLive)
            Assert.Equal(TestMachine.CanOpenReadWrite("/dev/kvm") ? CheckResult.Pass : CheckResult.Fail, Check(checks, "/dev/kvm accessible").Result);
        Assert.Equal(machine.Has("/dev/net/tun") ? CheckResult.Pass : CheckResult.Fail, Check(checks, "/dev/net/tun exists").Result);
        Assert.Equal(machine.Has("/sys/kernel/mm/ksm") ? CheckResult.Pass : CheckResult.Warn, Check(checks, "KSM available").Result);

        var groups = Check(checks, "IOMMU groups");
        if (machine.Entries("/sys/kernel/iommu_groups").Count > 0) Assert.Equal(CheckResult.Pass, groups.Result);
        else
        {
            Assert.Equal(CheckResult.Warn, groups.Result);
            Assert.Contains("iommu=on", groups.Hint);
        }
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
        Assert.Equal(4, checks.Count);
        Assert.All(checks, c => Assert.Equal("USBIP", c.Area));
    }

    [Fact]
    public void Free_vhci_ports_of_each_speed_at_or_over_the_threshold_pass()
    {
        // The capture: 120 high-speed ports free, 119 SuperSpeed (one holds the imported disk).
        var checks = VirtHostValidator.Run(new SystemRoot(CapturedFixture.Shared), new[] { "USBIP" }, minimumFreePorts: 119).ToList();
        Assert.Equal(CheckResult.Pass, Check(checks, "vhci_hcd HighSpeed ports free").Result);
        var super = Check(checks, "vhci_hcd SuperSpeed ports free");
        Assert.Equal(CheckResult.Pass, super.Result);
        Assert.StartsWith("119 of 120 SuperSpeed vhci_hcd ports are free (1 in use", super.Message);
    }

    [Fact]
    public void Fewer_free_vhci_ports_of_a_speed_than_the_threshold_warn_for_that_speed_only()
    {
        var checks = VirtHostValidator.Run(new SystemRoot(CapturedFixture.Shared), new[] { "USBIP" }, minimumFreePorts: 120).ToList();
        Assert.Equal(CheckResult.Pass, Check(checks, "vhci_hcd HighSpeed ports free").Result);
        var super = Check(checks, "vhci_hcd SuperSpeed ports free");
        Assert.Equal(CheckResult.Warn, super.Result);
        Assert.Contains("VhciNoFreePort", super.Message);
        Assert.Contains("Get-UsbIpCapacity", super.Hint);
    }

    [Fact]
    public void The_default_threshold_is_half_the_kernels_default_build()
    {
        using var kernel = VirtTools.Tests.KernelDouble.KernelDouble.OnEmptyTree();
        kernel.Usb.AddVhci(controllers: 1, portsPerHub: 8);
        for (int port = 0; port < 5; port++) kernel.Write("/sys/devices/platform/vhci_hcd.0/attach", $"{port} 7 65537 3");
        var checks = VirtHostValidator.Run(kernel.Root, new[] { "USBIP" }).ToList();
        Assert.Equal(4, VirtHostValidator.DefaultMinimumFreePorts);
        Assert.Equal(CheckResult.Warn, Check(checks, "vhci_hcd HighSpeed ports free").Result); // 3 free
        Assert.Equal(CheckResult.Pass, Check(checks, "vhci_hcd SuperSpeed ports free").Result); // 8 free
    }

    [Fact]
    public void Without_vhci_hcd_there_is_no_free_port_check()
    {
        using var tree = new TemporaryTree().Directory("/sys/devices/platform/serial8250");
        var checks = VirtHostValidator.Run(new SystemRoot(tree.Path), new[] { "USBIP" }).ToList();
        Assert.DoesNotContain(checks, c => c.Name.StartsWith("vhci_hcd ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_negative_threshold_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => VirtHostValidator.Run(new SystemRoot(CapturedFixture.Shared), null, -1).ToList());
}
