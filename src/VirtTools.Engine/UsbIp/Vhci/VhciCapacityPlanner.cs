using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// Get-UsbIpCapacity's engine: each hub's capacity (<see cref="VhciReader.GetCapacity"/>), the build that made it
/// (<see cref="VhciKernelConfig"/>), the bus numbers left (<see cref="UsbBusBudget"/>) and, given a target, the plan.
/// </summary>
/// <remarks>
/// The plan counts every port of a hub: a VDI host's target is all of its desktops, those attached now included.
/// When the running build is too small, it plans with 15 ports per hub (the most Kconfig allows), which takes the
/// fewest controllers and so the fewest bus numbers. Both hubs of a controller are built alike: a host that needs
/// both speeds builds for the larger of the two plans.
/// </remarks>
public static class VhciCapacityPlanner
{
    public static IReadOnlyList<UsbIpCapacity> Plan(SystemRoot root, VhciCapacityTarget? target = null)
    {
        var capacity = new VhciReader(root).GetCapacity();
        if (!capacity.IsAvailable) throw VhciErrors.NoController(root.Path);
        var config = VhciKernelConfig.Read(root);
        var buses = UsbBusBudget.Read(root, config.UsbMaxBus);
        return new[] { VhciHub.HighSpeed, VhciHub.SuperSpeed }
            .Select(hub => Describe(root, capacity, capacity.Of(hub), config, buses, target)).ToList();
    }

    private static UsbIpCapacity Describe(SystemRoot root, VhciCapacity capacity, VhciHubCapacity hub, VhciKernelConfig config,
        UsbBusBudget buses, VhciCapacityTarget? target) => new()
    {
        Hub = hub.Hub,
        Controllers = capacity.Controllers,
        PortsPerController = hub.PortsPerController,
        Ports = hub.Ports,
        InUse = hub.InUse,
        Free = hub.Free,
        KernelPortCount = capacity.PortCount,
        ConfiguredControllers = config.Controllers,
        ConfiguredPortsPerController = config.PortsPerHub,
        KernelConfigPath = config.ConfigPath,
        ModuleParameters = config.ModuleParameters,
        UsbMaxBus = buses.UsbMaxBus,
        PhysicalBuses = buses.PhysicalBuses,
        MaxControllers = buses.MaxControllers,
        MaxPortsPerController = VhciBuildLimits.MaxPortsPerHub,
        MaxPorts = buses.MaxControllers * VhciBuildLimits.MaxPortsPerHub,
        Desktops = target?.Desktops,
        DevicesPerDesktop = target?.DevicesPerDesktop,
        Wanted = target?.Devices,
        CanHold = target is null ? null : target.Devices <= hub.Ports,
        Needs = target is null ? null : Needs(capacity, hub, config, buses, target.Devices),
        Root = root.Path,
    };

    private static UsbIpCapacityNeeds Needs(VhciCapacity capacity, VhciHubCapacity hub, VhciKernelConfig config, UsbBusBudget buses, int devices)
    {
        var speed = hub.Hub == VhciHub.SuperSpeed ? "SuperSpeed" : "high-speed";
        if (devices <= hub.Ports)
            return new UsbIpCapacityNeeds(devices, capacity.Controllers, hub.PortsPerController, WithinBusLimit: true, Hosts: 1,
                Array.Empty<string>(), Array.Empty<string>(), string.Create(CultureInfo.InvariantCulture, 
                    $"{devices} {speed} devices fit this build: {hub.Ports} ports ({capacity.Controllers} controllers × {hub.PortsPerController}), {hub.Free} free now."));

        const int PortsEach = VhciBuildLimits.MaxPortsPerHub;
        var controllers = CeilingDivide(devices, PortsEach);
        var busesLeft = Math.Max(0, buses.BusNumbers - buses.PhysicalBuses);
        if (controllers > buses.MaxControllers)
        {
            var most = buses.MaxControllers * PortsEach;
            var hosts = most == 0 ? 0 : CeilingDivide(devices, most);
            return new UsbIpCapacityNeeds(devices, controllers, PortsEach, WithinBusLimit: false, hosts,
                KernelOptions(buses.MaxControllers), Array.Empty<string>(), string.Create(CultureInfo.InvariantCulture, 
                    $"{devices} {speed} devices need {controllers} controllers of {PortsEach} ports, more than one kernel here can register: "
                    + $"usbcore numbers {buses.BusNumbers} buses (USB_MAXBUS {buses.UsbMaxBus}), the {buses.PhysicalBuses} physical ones leave {busesLeft}, "
                    + $"two per controller, so at most {buses.MaxControllers} controllers and {most} ports. "
                    + $"Spread the desktops over {hosts} hosts, or raise USB_MAXBUS (QVD's CONFIG_USB_MAXBUS patch)."));
        }
        var parameters = ModuleParameters(config, controllers);
        var how = $"rebuild vhci-hcd with {string.Join(" and ", KernelOptions(controllers))}";
        if (parameters.Count > 0) how += $", or, as this vhci_hcd takes them, load it with 'options vhci_hcd {string.Join(' ', parameters)}'";
        return new UsbIpCapacityNeeds(devices, controllers, PortsEach, WithinBusLimit: true, Hosts: 1, KernelOptions(controllers), parameters, string.Create(CultureInfo.InvariantCulture, 
            $"{devices} {speed} devices need {controllers} controllers of {PortsEach} ports ({controllers * VhciBuildLimits.BusesPerController} "
            + $"of the {busesLeft} bus numbers the {buses.PhysicalBuses} physical buses leave); this build has {hub.Ports}: {how}."));
    }

    private static IReadOnlyList<string> KernelOptions(int controllers) => new[]
    {
        string.Create(CultureInfo.InvariantCulture, $"CONFIG_USBIP_VHCI_HC_PORTS={VhciBuildLimits.MaxPortsPerHub}"),
        string.Create(CultureInfo.InvariantCulture, $"CONFIG_USBIP_VHCI_NR_HCS={controllers}"),
    };

    /// <summary>The module parameters that set the same, as far as the running vhci_hcd has them.</summary>
    private static IReadOnlyList<string> ModuleParameters(VhciKernelConfig config, int controllers)
    {
        var parameters = new List<string>();
        if (config.HasPortsParameter) parameters.Add(string.Create(CultureInfo.InvariantCulture, $"{VhciKernelConfig.PortsParameter}={VhciBuildLimits.MaxPortsPerHub}"));
        if (config.HasControllersParameter) parameters.Add(string.Create(CultureInfo.InvariantCulture, $"{VhciKernelConfig.ControllersParameter}={controllers}"));
        return parameters;
    }

    private static int CeilingDivide(int value, int divisor) => (value + divisor - 1) / divisor;
}
