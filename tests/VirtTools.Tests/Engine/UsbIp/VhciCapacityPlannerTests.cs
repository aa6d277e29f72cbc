using System.IO.Compression;
using System.Text;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Vhci;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>Get-UsbIpCapacity's engine: each number from the kernel's files, and one test per rule of the plan.</summary>
public sealed class VhciCapacityPlannerTests
{
    private const string Release = "6.1.0-99-amd64";

    private static SystemRoot Captured => new(CapturedFixture.Shared);

    private static UsbIpCapacity Of(IReadOnlyList<UsbIpCapacity> plan, VhciHub hub) => plan.Single(c => c.Hub == hub);

    /// <summary>A vhci_hcd of <paramref name="controllers"/> × <paramref name="portsPerHub"/> ports and <paramref name="physicalBuses"/> physical USB buses.</summary>
    private static Double Host(int controllers, int portsPerHub, int physicalBuses = 2)
    {
        var kernel = Double.OnEmptyTree();
        kernel.Usb.AddVhci(controllers, portsPerHub);
        for (int bus = 1; bus <= physicalBuses; bus++)
            kernel.Tree.Link($"/sys/bus/usb/devices/usb{bus}", $"../../../devices/pci0000:00/0000:00:{bus:x2}.0/usb{bus}");
        for (int bus = 0; bus < 2 * controllers; bus++)
            kernel.Tree.Link($"/sys/bus/usb/devices/usb{100 + bus}", $"../../../devices/platform/vhci_hcd.{bus / 2}/usb{100 + bus}");
        return kernel;
    }

    private static void WithConfig(Double kernel, string config) =>
        kernel.Tree.File("/proc/sys/kernel/osrelease", Release).File("/boot/config-" + Release, config);

    [Fact]
    public void Each_speed_counts_its_ports_from_the_status_files_and_the_controllers_from_vhci_hcd_N()
    {
        var plan = VhciCapacityPlanner.Plan(Captured);
        Assert.Equal(new[] { VhciHub.HighSpeed, VhciHub.SuperSpeed }, plan.Select(c => c.Hub));
        var nports = new SystemRoot(CapturedFixture.Shared).Directory("/sys/devices/platform/vhci_hcd.0").Int("nports");
        foreach (var speed in plan)
        {
            Assert.Equal((8, 15, 120, 240), (speed.Controllers, speed.PortsPerController, speed.Ports, speed.KernelPortCount));
            Assert.Equal(nports, speed.Controllers * speed.PortsPerController * 2);
        }
        Assert.Equal((0, 120), (Of(plan, VhciHub.HighSpeed).InUse, Of(plan, VhciHub.HighSpeed).Free));
        Assert.Equal((1, 119), (Of(plan, VhciHub.SuperSpeed).InUse, Of(plan, VhciHub.SuperSpeed).Free));
    }

    [Fact]
    public void The_bus_limit_is_63_bus_numbers_less_the_physical_buses_two_per_controller()
    {
        // The capture: usb1 and usb2 on the xHCI, usb3 … usb18 on the eight vhci_hcd controllers.
        var speed = VhciCapacityPlanner.Plan(Captured)[0];
        Assert.Equal((64, 2), (speed.UsbMaxBus, speed.PhysicalBuses));
        Assert.Equal((63 - 2) / 2, speed.MaxControllers);
        Assert.Equal((15, 30 * 15), (speed.MaxPortsPerController, speed.MaxPorts));
    }

    [Fact]
    public void Without_a_target_there_is_no_plan()
    {
        Assert.All(VhciCapacityPlanner.Plan(Captured), c => Assert.True(c is { Wanted: null, CanHold: null, Desktops: null, Needs: null }));
    }

    [Fact]
    public void Without_a_kernel_configuration_or_module_parameters_those_read_as_null_and_empty()
    {
        var speed = VhciCapacityPlanner.Plan(Captured)[0];
        Assert.Equal((null, null, (string?)null), (speed.ConfiguredControllers, speed.ConfiguredPortsPerController, speed.KernelConfigPath));
        Assert.Empty(speed.ModuleParameters);
    }

    [Fact]
    public void Four_hundred_desktops_on_Debians_build_need_27_controllers_of_15_ports_within_the_bus_limit()
    {
        var high = Of(VhciCapacityPlanner.Plan(Captured, new VhciCapacityTarget(400)), VhciHub.HighSpeed);
        Assert.Equal((400, 1, 400, false), (high.Desktops, high.DevicesPerDesktop, high.Wanted, high.CanHold));
        var needs = high.Needs!;
        Assert.Equal((27, 15, true, 1), (needs.Controllers, needs.PortsPerController, needs.WithinBusLimit, needs.Hosts));
        Assert.Equal(new[] { "CONFIG_USBIP_VHCI_HC_PORTS=15", "CONFIG_USBIP_VHCI_NR_HCS=27" }, needs.KernelConfig);
        Assert.Empty(needs.ModuleParameters);
        Assert.Contains("54 of the 61 bus numbers", needs.Summary);
    }

    [Fact]
    public void A_target_within_the_ports_of_a_speed_fits_and_needs_no_change()
    {
        var high = Of(VhciCapacityPlanner.Plan(Captured, new VhciCapacityTarget(120)), VhciHub.HighSpeed);
        Assert.True(high.CanHold);
        Assert.Equal((8, 15), (high.Needs!.Controllers, high.Needs.PortsPerController));
        Assert.Empty(high.Needs.KernelConfig);
    }

    [Fact]
    public void The_devices_attached_now_count_toward_the_target()
    {
        // 120 SuperSpeed ports, one in use: 120 desktops fit the build, and the plan says only 119 are free now.
        var super = Of(VhciCapacityPlanner.Plan(Captured, new VhciCapacityTarget(120)), VhciHub.SuperSpeed);
        Assert.True(super.CanHold);
        Assert.Contains("119 free now", super.Needs!.Summary);
    }

    [Fact]
    public void Devices_per_desktop_multiply_the_ports_wanted()
    {
        Assert.True(Of(VhciCapacityPlanner.Plan(Captured, new VhciCapacityTarget(60, 2)), VhciHub.HighSpeed).CanHold);
        var over = Of(VhciCapacityPlanner.Plan(Captured, new VhciCapacityTarget(61, 2)), VhciHub.HighSpeed);
        Assert.Equal((122, false, 9), (over.Wanted, over.CanHold, over.Needs!.Controllers));
    }

    [Fact]
    public void Beyond_the_bus_limit_one_kernel_cannot_hold_it_and_the_plan_says_how_many_hosts()
    {
        using var kernel = Host(controllers: 1, portsPerHub: 8, physicalBuses: 40);
        var high = Of(VhciCapacityPlanner.Plan(kernel.Root, new VhciCapacityTarget(400)), VhciHub.HighSpeed);
        Assert.Equal(((63 - 40) / 2, 11 * 15), (high.MaxControllers, high.MaxPorts));
        var needs = high.Needs!;
        Assert.False(needs.WithinBusLimit);
        Assert.Equal((27, 3), (needs.Controllers, needs.Hosts));
        Assert.Equal(new[] { "CONFIG_USBIP_VHCI_HC_PORTS=15", "CONFIG_USBIP_VHCI_NR_HCS=11" }, needs.KernelConfig);
        Assert.Contains("Spread the desktops over 3 hosts", needs.Summary);
    }

    [Fact]
    public void The_build_options_are_read_from_the_running_kernels_boot_configuration()
    {
        using var kernel = Host(controllers: 8, portsPerHub: 15);
        WithConfig(kernel, "CONFIG_USBIP_CORE=m\nCONFIG_USBIP_VHCI_HCD=m\nCONFIG_USBIP_VHCI_HC_PORTS=15\nCONFIG_USBIP_VHCI_NR_HCS=8\n# CONFIG_USBIP_DEBUG is not set\n");
        var speed = VhciCapacityPlanner.Plan(kernel.Root)[0];
        Assert.Equal((8, 15, "/boot/config-" + Release), (speed.ConfiguredControllers, speed.ConfiguredPortsPerController, speed.KernelConfigPath));
    }

    [Fact]
    public void Without_a_boot_configuration_the_one_built_into_the_kernel_is_read()
    {
        using var kernel = Host(controllers: 1, portsPerHub: 8);
        kernel.Tree.Bytes(VhciKernelConfig.ProcConfig, Gzip("CONFIG_USBIP_VHCI_HC_PORTS=8\nCONFIG_USBIP_VHCI_NR_HCS=1\n"));
        var speed = VhciCapacityPlanner.Plan(kernel.Root)[0];
        Assert.Equal((1, 8, VhciKernelConfig.ProcConfig), (speed.ConfiguredControllers, speed.ConfiguredPortsPerController, speed.KernelConfigPath));
    }

    [Fact]
    public void Decompressing_the_built_in_configuration_stops_at_its_bound()
    {
        using var kernel = Host(controllers: 1, portsPerHub: 8);
        var padding = new string('#', 5 << 20);
        kernel.Tree.Bytes(VhciKernelConfig.ProcConfig, Gzip(padding + "\nCONFIG_USBIP_VHCI_NR_HCS=1\n"));
        Assert.Null(VhciCapacityPlanner.Plan(kernel.Root)[0].ConfiguredControllers);
    }

    [Fact]
    public void A_kernel_with_QVDs_USB_MAXBUS_has_more_bus_numbers()
    {
        using var kernel = Host(controllers: 1, portsPerHub: 8);
        WithConfig(kernel, "CONFIG_USB_MAXBUS=1024\n");
        var speed = VhciCapacityPlanner.Plan(kernel.Root)[0];
        Assert.Equal((1024, 128), (speed.UsbMaxBus, speed.MaxControllers)); // Kconfig's 128 controllers still bound it
    }

    [Fact]
    public void A_vhci_hcd_with_module_parameters_for_the_build_options_is_told_to_use_them()
    {
        using var kernel = Host(controllers: 1, portsPerHub: 8);
        kernel.Tree.File("/sys/module/vhci_hcd/parameters/num_controllers", "1").File("/sys/module/vhci_hcd/parameters/hc_ports", "8");
        var high = Of(VhciCapacityPlanner.Plan(kernel.Root, new VhciCapacityTarget(400)), VhciHub.HighSpeed);
        Assert.Equal("8", high.ModuleParameters["hc_ports"]);
        Assert.Equal(new[] { "hc_ports=15", "num_controllers=27" }, high.Needs!.ModuleParameters);
        Assert.Contains("options vhci_hcd hc_ports=15 num_controllers=27", high.Needs.Summary);
    }

    [Fact]
    public void Without_vhci_hcd_there_is_no_capacity_to_plan()
    {
        using var tree = new TemporaryTree().Directory("/sys/devices/platform/serial8250");
        var error = Assert.Throws<VirtToolsException>(() => VhciCapacityPlanner.Plan(new SystemRoot(tree.Path)));
        Assert.Equal((VhciErrors.NotLoaded, FailureKind.NotInstalled), (error.ErrorId, error.Kind));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(VhciCapacityTarget.MaxDesktops + 1, 1)]
    [InlineData(1, 0)]
    [InlineData(1, VhciCapacityTarget.MaxDevicesPerDesktop + 1)]
    public void A_target_out_of_range_is_refused(int desktops, int devicesPerDesktop) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new VhciCapacityTarget(desktops, devicesPerDesktop));

    [Fact]
    public void The_largest_target_does_not_overflow()
    {
        var target = new VhciCapacityTarget(VhciCapacityTarget.MaxDesktops, VhciCapacityTarget.MaxDevicesPerDesktop);
        var needs = Of(VhciCapacityPlanner.Plan(Captured, target), VhciHub.HighSpeed).Needs!;
        Assert.Equal((12_700_000, false), (needs.Devices, needs.WithinBusLimit));
    }

    private static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(Encoding.UTF8.GetBytes(text));
        return output.ToArray();
    }
}
