namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// One speed's vhci_hcd capacity, every number from the kernel's own files: the ports the status files list per
/// hub, nports, the controllers, the build options, usbcore's bus numbers; with a target, whether it fits and what
/// it would take.
/// </summary>
public sealed class UsbIpCapacity
{
    public VhciHub Hub { get; init; }

    /// <summary>The vhci_hcd.N controllers.</summary>
    public int Controllers { get; init; }

    /// <summary>This hub's ports on each controller (CONFIG_USBIP_VHCI_HC_PORTS of the running build).</summary>
    public int PortsPerController { get; init; }

    /// <summary>This hub's ports on every controller, as the status files list them.</summary>
    public int Ports { get; init; }

    public int InUse { get; init; }

    public int Free { get; init; }

    /// <summary>vhci_hcd.0's nports: every port of both hubs of every controller (the sum of each controller's on the per-controller layout).</summary>
    public int? KernelPortCount { get; init; }

    /// <summary>CONFIG_USBIP_VHCI_NR_HCS; null when the root holds no kernel configuration.</summary>
    public int? ConfiguredControllers { get; init; }

    /// <summary>CONFIG_USBIP_VHCI_HC_PORTS; null when the root holds no kernel configuration.</summary>
    public int? ConfiguredPortsPerController { get; init; }

    /// <summary>The configuration file read (/boot/config-&lt;release&gt; or /proc/config.gz); null when there is none.</summary>
    public string? KernelConfigPath { get; init; }

    /// <summary>The running vhci_hcd's module parameters (name, value); mainline has none.</summary>
    public required IReadOnlyDictionary<string, string> ModuleParameters { get; init; }

    /// <summary>USB_MAXBUS: usbcore numbers buses 1 to this − 1.</summary>
    public int UsbMaxBus { get; init; }

    /// <summary>Buses of the physical host controllers, which no vhci build can have.</summary>
    public int PhysicalBuses { get; init; }

    /// <summary>The most controllers the remaining bus numbers carry (two buses each), within Kconfig's 128.</summary>
    public int MaxControllers { get; init; }

    /// <summary>Kconfig's ceiling on CONFIG_USBIP_VHCI_HC_PORTS.</summary>
    public int MaxPortsPerController { get; init; }

    /// <summary>The most devices of this speed one kernel on this host can import: <see cref="MaxControllers"/> × <see cref="MaxPortsPerController"/>.</summary>
    public int MaxPorts { get; init; }

    public int? Desktops { get; init; }

    public int? DevicesPerDesktop { get; init; }

    /// <summary>Desktops × DevicesPerDesktop: the ports of this speed the target occupies.</summary>
    public int? Wanted { get; init; }

    /// <summary>Whether this hub's ports hold the target, the devices attached now included; null without a target.</summary>
    public bool? CanHold { get; init; }

    /// <summary>What the target takes; null without a target.</summary>
    public UsbIpCapacityNeeds? Needs { get; init; }

    public required string Root { get; init; }

    public override string ToString() => $"{Hub}: {InUse} of {Ports} ports in use";
}
