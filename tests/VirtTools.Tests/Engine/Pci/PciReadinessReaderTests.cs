using VirtTools.Pci;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Pci;

/// <summary>
/// Each readiness check on synthetic trees. The function under test is 0000:05:00.0, a PCI Express NIC behind the
/// root port 0000:00:1c.0, alone in group 7, on MSI-X; each test changes the one fact its check reads.
/// </summary>
public sealed class PciReadinessReaderTests : IDisposable
{
    private const string Nic = "0000:05:00.0";
    private const string Port = "/sys/devices/pci0000:00/0000:00:1c.0";
    private const string NicDir = Port + "/" + Nic;
    private const ushort AllAcs = 0x001D; // SV RR CR UF
    private readonly TemporaryTree _tree = new("readiness");

    public PciReadinessReaderTests()
    {
        _tree.Function("0000:00:1c.0", cls: "0x060400", config: SyntheticPci.Express(acsControl: AllAcs, headerType: 1), driver: "pcieport");
        _tree.Function(Nic, config: SyntheticPci.Express(flr: true), driver: "igb", under: Port);
        _tree.Msi(NicDir, "msix", 40, 41);
        _tree.Group(7, NicDir).File("/sys/kernel/iommu_groups/7/reserved_regions", "0x00000000fee00000 0x00000000feefffff msi");
        _tree.File(NicDir + "/reset_method", "flr bus");
        _tree.File(NicDir + "/d3cold_allowed", "1");
        _tree.File(NicDir + "/resource", "0x00000000fc000000 0x00000000fc01ffff 0x0000000000040200\n0x0000000000000000 0x0000000000000000 0x0000000000000000");
        _tree.File("/proc/iomem", "80000000-fdffffff : PCI Bus 0000:00\n  fc000000-fc01ffff : 0000:05:00.0\n    fc000000-fc01ffff : igb");
        _tree.File("/sys/kernel/irq/24/chip_name", "IR-PCI-MSIX-0000:05:00.0");
        _tree.File("/proc/cmdline", "BOOT_IMAGE=/vmlinuz intel_iommu=on");
    }

    private PciPassthroughReadiness Test(string address = Nic)
    {
        var devices = new PciDeviceReader(new SystemRoot(_tree.Path));
        return new PciReadinessReader(devices).Test(devices.Get(PciAddress.Parse(address)));
    }

    private PciReadinessFinding Finding(string check, string address = Nic) => Assert.Single(Test(address).Findings, f => f.Check == check);

    [Fact]
    public void A_function_every_check_passes_is_Ready()
    {
        var readiness = Test();
        Assert.All(readiness.Findings, f => Assert.True(f.Result == PciReadinessResult.Pass, $"{f.Check}: {f.Result} ({f.Evidence})"));
        Assert.Equal(PciReadinessVerdict.Ready, readiness.Verdict);
        Assert.Equal(Nic, readiness.Address.ToString());
    }

    [Fact]
    public void Every_finding_names_the_file_it_read()
    {
        Assert.All(Test().Findings, f => Assert.Contains("/", f.Evidence));
    }

    [Fact]
    public void A_Fail_blocks_and_a_Warn_or_Unknown_leaves_a_Warning()
    {
        static PciReadinessFinding F(PciReadinessResult r) => new("x", r, "/e", "r");
        Assert.Equal(PciReadinessVerdict.Blocked, PciPassthroughReadiness.VerdictOf(new[] { F(PciReadinessResult.Warn), F(PciReadinessResult.Fail) }));
        Assert.Equal(PciReadinessVerdict.Warning, PciPassthroughReadiness.VerdictOf(new[] { F(PciReadinessResult.Pass), F(PciReadinessResult.Unknown) }));
        Assert.Equal(PciReadinessVerdict.Warning, PciPassthroughReadiness.VerdictOf(new[] { F(PciReadinessResult.Warn) }));
        Assert.Equal(PciReadinessVerdict.Ready, PciPassthroughReadiness.VerdictOf(new[] { F(PciReadinessResult.Pass) }));
    }

    // Bridge

    [Theory]
    [InlineData("0x060000", 0, "a host bridge")]
    [InlineData("0x060100", 0, "an ISA bridge")]
    [InlineData("0x060400", 1, "a PCI bridge")]
    public void Bridges_are_Blocked_as_Set_PciPassthrough_refuses_them(string cls, byte headerType, string kind)
    {
        _tree.Function("0000:00:1f.0", cls: cls, config: SyntheticPci.Config(headerType: headerType, length: 256));
        var readiness = Test("0000:00:1f.0");
        var bridge = Assert.Single(readiness.Findings, f => f.Check == "Bridge");
        Assert.Equal(PciReadinessResult.Fail, bridge.Result);
        Assert.Contains(kind, bridge.Reason);
        Assert.Contains("PciBridgeNotPassable", bridge.Reason);
        Assert.Equal(PciReadinessVerdict.Blocked, readiness.Verdict);
    }

    // IOMMU and group

    [Fact]
    public void A_function_without_an_iommu_group_fails_the_IOMMU_check_and_has_no_group_finding()
    {
        File.Delete(_tree.Resolve(NicDir + "/iommu_group"));
        var readiness = Test();
        var iommu = Assert.Single(readiness.Findings, f => f.Check == "Iommu");
        Assert.Equal(PciReadinessResult.Fail, iommu.Result);
        Assert.Contains(NicDir + "/iommu_group: missing", iommu.Evidence);
        Assert.DoesNotContain(readiness.Findings, f => f.Check == "IommuGroup");
    }

    [Fact]
    public void A_group_member_on_a_host_driver_must_move_along_which_is_a_warning()
    {
        var sibling = _tree.Function("0000:05:00.1", config: SyntheticPci.Express(), driver: "igb", under: Port);
        _tree.Group(7, sibling);
        var group = Finding("IommuGroup");
        Assert.Equal(PciReadinessResult.Warn, group.Result);
        Assert.Contains("0000:05:00.1 must move along", group.Reason);
        Assert.Contains("0000:05:00.1 [igb]", group.Evidence);
    }

    [Fact]
    public void A_group_member_that_is_no_PCI_function_on_a_host_driver_blocks()
    {
        _tree.Directory("/sys/devices/platform/foo.0").Directory("/sys/bus/platform/drivers/foo")
            .Link("/sys/devices/platform/foo.0/driver", "../../../bus/platform/drivers/foo")
            .Link("/sys/kernel/iommu_groups/7/devices/foo.0", "../../../../devices/platform/foo.0");
        Assert.Equal(PciReadinessResult.Fail, Finding("IommuGroup").Result);
    }

    // Host use and boot VGA

    [Fact]
    public void The_interface_of_the_default_route_is_a_host_use_Set_PciPassthrough_refuses()
    {
        _tree.Directory(NicDir + "/net/eth0").Directory("/sys/class/net/eth0");
        _tree.File("/proc/net/route", "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n" +
                                      "eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000");
        var hostUse = Finding("HostUse");
        Assert.Equal(PciReadinessResult.Fail, hostUse.Result);
        Assert.Contains("PassthroughInterlockDefaultRoute", hostUse.Reason);
    }

    [Theory]
    [InlineData("1", PciReadinessResult.Fail)]
    [InlineData("0", PciReadinessResult.Pass)]
    public void Boot_vga_decides_the_boot_VGA_check(string bootVga, PciReadinessResult expected)
    {
        var gpu = _tree.Function("0000:00:02.0", cls: "0x030000", config: SyntheticPci.Express());
        _tree.File(gpu + "/boot_vga", bootVga);
        var finding = Finding("BootVga", "0000:00:02.0");
        Assert.Equal(expected, finding.Result);
        Assert.Equal($"{gpu}/boot_vga: {bootVga}", finding.Evidence);
    }

    // Firmware framebuffer

    [Fact]
    public void A_firmware_framebuffer_inside_a_BAR_is_a_warning_quoting_proc_iomem()
    {
        _tree.File("/proc/iomem", "80000000-fdffffff : PCI Bus 0000:00\n  fc000000-fc01ffff : 0000:05:00.0\n    fc000000-fc00ffff : efifb");
        var finding = Finding("Framebuffer");
        Assert.Equal(PciReadinessResult.Warn, finding.Result);
        Assert.Equal("/proc/iomem: fc000000-fc00ffff : efifb", finding.Evidence);
    }

    [Fact]
    public void Proc_iomem_without_addresses_as_non_root_reads_it_is_Unknown()
    {
        _tree.File("/proc/iomem", "00000000-00000000 : PCI Bus 0000:00\n  00000000-00000000 : efifb");
        Assert.Equal(PciReadinessResult.Unknown, Finding("Framebuffer").Result);
    }

    // ACS

    [Fact]
    public void A_root_port_without_ACS_is_a_warning_naming_its_config()
    {
        _tree.Bytes(Port + "/config", SyntheticPci.Express(headerType: 1));
        var acs = Finding("Acs");
        Assert.Equal(PciReadinessResult.Warn, acs.Result);
        Assert.Equal($"{Port}/config: no ACS capability", acs.Evidence);
    }

    [Fact]
    public void ACS_present_but_without_request_redirect_enabled_is_a_warning()
    {
        _tree.Bytes(Port + "/config", SyntheticPci.Express(acsControl: 0x0019, headerType: 1)); // SV CR UF
        var acs = Finding("Acs");
        Assert.Equal(PciReadinessResult.Warn, acs.Result);
        Assert.Contains("control 0x0019 (SV CR UF)", acs.Evidence);
    }

    [Fact]
    public void ACS_on_every_bridge_passes_and_quotes_the_control_bits()
    {
        var acs = Finding("Acs");
        Assert.Equal(PciReadinessResult.Pass, acs.Result);
        Assert.Equal($"{Port}/config: ACS at 0x100, capability 0x001f, control 0x001d (SV RR CR UF)", acs.Evidence);
    }

    [Fact]
    public void A_bridge_config_read_without_root_stops_at_64_bytes_so_ACS_is_Unknown_not_Pass()
    {
        _tree.Bytes(Port + "/config", SyntheticPci.Express(acsControl: AllAcs, headerType: 1)[..64]);
        var acs = Finding("Acs");
        Assert.Equal(PciReadinessResult.Unknown, acs.Result);
        Assert.Contains("64 of 64 bytes readable", acs.Evidence);
    }

    [Fact]
    public void Pcie_acs_override_on_the_command_line_is_a_warning()
    {
        _tree.File("/proc/cmdline", "intel_iommu=on pcie_acs_override=downstream,multifunction");
        var acs = Finding("Acs");
        Assert.Equal(PciReadinessResult.Warn, acs.Result);
        Assert.Contains("/proc/cmdline: pcie_acs_override=downstream,multifunction", acs.Evidence);
    }

    // Interrupt remapping

    private void NoRemappingEvidence() => File.Delete(_tree.Resolve("/sys/kernel/irq/24/chip_name"));

    private void IntelUnit(string ecap) => _tree.File("/sys/class/iommu/dmar0/intel-iommu/ecap", ecap);

    [Fact]
    public void An_IR_interrupt_chip_shows_remapping_enabled()
    {
        var remapping = Finding("InterruptRemapping");
        Assert.Equal(PciReadinessResult.Pass, remapping.Result);
        Assert.Equal("/sys/kernel/irq/24/chip_name: IR-PCI-MSIX-0000:05:00.0", remapping.Evidence);
    }

    [Fact]
    public void The_kernel_s_boot_line_in_kmsg_shows_remapping_enabled()
    {
        NoRemappingEvidence();
        IntelUnit("f00f4a");
        _tree.File("/dev/kmsg", "6,1,0,-;DMAR: IOMMU enabled\n6,2,1,-;DMAR-IR: Enabled IRQ remapping in x2apic mode\n");
        var remapping = Finding("InterruptRemapping");
        Assert.Equal(PciReadinessResult.Pass, remapping.Result);
        Assert.Equal("/dev/kmsg: DMAR-IR: Enabled IRQ remapping in x2apic mode", remapping.Evidence);
    }

    [Fact]
    public void The_ecap_IR_bit_alone_means_supported_not_enabled_so_Unknown()
    {
        NoRemappingEvidence();
        IntelUnit("f00f4a"); // bit 3 set
        var remapping = Finding("InterruptRemapping");
        Assert.Equal(PciReadinessResult.Unknown, remapping.Result);
        Assert.Contains("/sys/class/iommu/dmar0/intel-iommu/ecap: f00f4a (IR bit 3 set)", remapping.Evidence);
        Assert.Contains("supported is not enabled", remapping.Reason);
    }

    [Fact]
    public void An_IOMMU_without_the_IR_bit_fails()
    {
        NoRemappingEvidence();
        IntelUnit("f00f42"); // bit 3 clear
        var remapping = Finding("InterruptRemapping");
        Assert.Equal(PciReadinessResult.Fail, remapping.Result);
        Assert.Contains("IR bit 3 clear", remapping.Evidence);
    }

    [Fact]
    public void Allow_unsafe_interrupts_turns_missing_remapping_into_a_warning_and_says_so()
    {
        NoRemappingEvidence();
        IntelUnit("f00f42");
        _tree.File(InterruptRemapping.AllowUnsafePath, "Y");
        var remapping = Finding("InterruptRemapping");
        Assert.Equal(PciReadinessResult.Warn, remapping.Result);
        Assert.Contains(InterruptRemapping.AllowUnsafePath + ": Y", remapping.Evidence);
    }

    [Fact]
    public void Intremap_off_on_the_command_line_fails_even_with_the_IR_bit_set()
    {
        NoRemappingEvidence();
        IntelUnit("f00f4a");
        _tree.File("/proc/cmdline", "intel_iommu=on intremap=off");
        Assert.Equal(PciReadinessResult.Fail, Finding("InterruptRemapping").Result);
    }

    // Reserved regions

    [Fact]
    public void A_direct_reserved_region_is_a_warning_quoting_it()
    {
        _tree.File("/sys/kernel/iommu_groups/7/reserved_regions",
            "0x000000007c000000 0x000000007fffffff direct\n0x00000000fee00000 0x00000000feefffff msi");
        var regions = Finding("ReservedRegions");
        Assert.Equal(PciReadinessResult.Warn, regions.Result);
        Assert.Equal("/sys/kernel/iommu_groups/7/reserved_regions: 0x000000007c000000 0x000000007fffffff direct", regions.Evidence);
    }

    [Fact]
    public void A_kernel_without_reserved_regions_is_Unknown_with_the_path()
    {
        File.Delete(_tree.Resolve("/sys/kernel/iommu_groups/7/reserved_regions"));
        var regions = Finding("ReservedRegions");
        Assert.Equal(PciReadinessResult.Unknown, regions.Result);
        Assert.Equal("/sys/kernel/iommu_groups/7/reserved_regions: missing", regions.Evidence);
    }

    // Reset

    [Theory]
    [InlineData("bus", PciReadinessResult.Warn)]
    [InlineData("", PciReadinessResult.Warn)]
    [InlineData("flr", PciReadinessResult.Pass)]
    public void Reset_method_decides_the_reset_check(string methods, PciReadinessResult expected)
    {
        _tree.File(NicDir + "/reset_method", methods);
        Assert.Equal(expected, Finding("Reset").Result);
    }

    [Fact]
    public void Without_reset_method_the_FLR_bit_of_config_space_passes()
    {
        File.Delete(_tree.Resolve(NicDir + "/reset_method"));
        var reset = Finding("Reset");
        Assert.Equal(PciReadinessResult.Pass, reset.Result);
        Assert.Contains($"{NicDir}/config: FLR +", reset.Evidence);
    }

    [Fact]
    public void Without_reset_method_or_FLR_on_an_older_kernel_a_function_alone_behind_a_bridge_has_only_a_bus_reset()
    {
        File.Delete(_tree.Resolve(NicDir + "/reset_method"));
        _tree.Bytes(NicDir + "/config", SyntheticPci.Express(flr: false));
        var reset = Finding("Reset");
        Assert.Equal(PciReadinessResult.Warn, reset.Result);
        Assert.EndsWith("config: FLR -, PM reset -; alone on its bus behind a bridge", reset.Evidence);
    }

    [Fact]
    public void Without_reset_method_on_an_older_kernel_a_PM_capability_without_No_Soft_Reset_passes()
    {
        File.Delete(_tree.Resolve(NicDir + "/reset_method"));
        _tree.File("/proc/sys/kernel/osrelease", "5.10.0-30-amd64");
        _tree.Bytes(NicDir + "/config", WithPowerManagement(SyntheticPci.Express(flr: false), noSoftReset: false));
        var reset = Finding("Reset");
        Assert.Equal(PciReadinessResult.Pass, reset.Result);
        Assert.Contains("PM reset +", reset.Evidence);

        _tree.Bytes(NicDir + "/config", WithPowerManagement(SyntheticPci.Express(flr: false), noSoftReset: true));
        Assert.Contains("PM reset -", Finding("Reset").Evidence);
    }

    [Fact]
    public void Without_reset_method_on_a_kernel_that_has_the_attribute_the_function_has_no_reset_whatever_config_space_says()
    {
        File.Delete(_tree.Resolve(NicDir + "/reset_method"));
        _tree.File("/proc/sys/kernel/osrelease", "6.1.0-27-amd64");
        var reset = Finding("Reset");
        Assert.Equal(PciReadinessResult.Warn, reset.Result);
        Assert.EndsWith("kernel 6.1.0-27-amd64 has reset_method (5.15+)", reset.Evidence);
    }

    [Fact]
    public void Without_reset_method_on_an_older_kernel_a_config_space_read_short_is_Unknown()
    {
        File.Delete(_tree.Resolve(NicDir + "/reset_method"));
        var shortRead = SyntheticPci.Config(status: 0x0010); // a capability list at 0x40, beyond the 64 bytes a non-root read gets
        shortRead[0x34] = 0x40;
        _tree.Bytes(NicDir + "/config", shortRead);
        _tree.Function("0000:05:00.1", config: SyntheticPci.Config(), under: Port); // not alone on bus 05: no bus reset
        Assert.Equal(PciReadinessResult.Unknown, Finding("Reset").Result);
    }

    /// <summary>A PCI Power Management capability after the Express one, with PMCSR No_Soft_Reset as given.</summary>
    private static byte[] WithPowerManagement(byte[] config, bool noSoftReset)
    {
        config[0x41] = 0x50;
        config[0x50] = 0x01;
        config[0x54] = (byte)(noSoftReset ? 0x08 : 0x00);
        return config;
    }

    // D3cold and BARs

    [Theory]
    [InlineData("1", PciReadinessResult.Pass)]
    [InlineData("0", PciReadinessResult.Pass)]
    [InlineData(null, PciReadinessResult.Unknown)]
    public void D3cold_quotes_d3cold_allowed(string? allowed, PciReadinessResult expected)
    {
        if (allowed is null) File.Delete(_tree.Resolve(NicDir + "/d3cold_allowed"));
        else _tree.File(NicDir + "/d3cold_allowed", allowed);
        var d3cold = Finding("D3cold");
        Assert.Equal(expected, d3cold.Result);
        Assert.Equal($"{NicDir}/d3cold_allowed: {allowed ?? "missing"}", d3cold.Evidence);
    }

    [Theory]
    [InlineData("0x0000004000000000 0x00000043ffffffff 0x000000000014220c", PciReadinessResult.Warn, "BAR0 16G 64-bit prefetchable memory")]
    [InlineData("0x00000000c0000000 0x00000000dfffffff 0x0000000000040200", PciReadinessResult.Warn, "BAR0 512M 32-bit memory")]
    [InlineData("0x00000000fc000000 0x00000000fc01ffff 0x000000000014220c", PciReadinessResult.Pass, "BAR0 128K 64-bit prefetchable memory")]
    public void Large_BARs_are_a_warning_about_the_guest_s_MMIO_windows(string bar0, PciReadinessResult expected, string described)
    {
        _tree.File(NicDir + "/resource", bar0 + "\n0x000000000000e000 0x000000000000e01f 0x0000000000040101");
        var bars = Finding("Bars");
        Assert.Equal(expected, bars.Result);
        Assert.Equal($"{NicDir}/resource: {described}, BAR1 32 I/O", bars.Evidence);
    }

    [Fact]
    public void Without_reset_method_where_the_kernel_lists_them_for_others_the_function_has_none()
    {
        File.Delete(_tree.Resolve(NicDir + "/reset_method"));
        _tree.Bytes(NicDir + "/config", SyntheticPci.Express(flr: false));
        _tree.File(Port + "/reset_method", "pm");
        var reset = Finding("Reset");
        Assert.Equal(PciReadinessResult.Warn, reset.Result);
        Assert.Contains($"{Port}/reset_method exists", reset.Evidence);
    }

    // INTx masking and IRQ sharing

    [Fact]
    public void A_conventional_function_s_INTx_masking_is_Unknown_without_the_kernel_s_write_test()
    {
        _tree.Function("0000:00:05.0", config: SyntheticPci.Config(length: 256), driver: "e1000");
        Assert.Equal(PciReadinessResult.Unknown, Finding("IntxMasking", "0000:00:05.0").Result);
    }

    [Fact]
    public void A_function_Get_PciIrqShare_calls_blocked_fails_IRQ_sharing_with_the_same_reason()
    {
        _tree.File("/sys/kernel/irq/11/actions", "eth0");
        _tree.Function("0000:00:05.0", config: SyntheticPci.Config(length: 256));
        _tree.Function("0000:00:06.0", config: SyntheticPci.Config(length: 256), driver: "e1000");
        var line = Assert.Single(new PciIrqShareReader(new SystemRoot(_tree.Path)).GetLines(), l => l.Irq == 11);
        var sharing = Finding("IrqSharing", "0000:00:05.0");
        Assert.Equal(PciReadinessResult.Fail, sharing.Result);
        Assert.Equal(line.Reason, sharing.Reason);
        Assert.Equal("/sys/kernel/irq/11/actions: eth0", sharing.Evidence);
    }

    [Fact]
    public void A_function_on_MSI_X_does_not_use_its_line()
    {
        var sharing = Finding("IrqSharing");
        Assert.Equal(PciReadinessResult.Pass, sharing.Result);
        Assert.Contains("uses MSI-X (2 vectors in msi_irqs), not the line", sharing.Reason);
    }

    public void Dispose() => _tree.Dispose();
}
