namespace VirtTools.UsbIp.Vhci;

/// <summary>How many devices this host can import: controllers, the kernel's nports figure, and each hub's ports.</summary>
/// <remarks>
/// This is the one place vhci capacity is counted; Get-VirtHost, Get-UsbIpCapacity, Test-VirtHost and the
/// attacher's no-free-port failure all read it from here.
/// </remarks>
public sealed record VhciCapacity(int Controllers, int? PortCount, VhciHubCapacity HighSpeed, VhciHubCapacity SuperSpeed)
{
    /// <summary>No vhci_hcd controller: the vhci-hcd module is not loaded.</summary>
    public bool IsAvailable => Controllers > 0;

    public VhciHubCapacity Of(VhciHub hub) => hub == VhciHub.SuperSpeed ? SuperSpeed : HighSpeed;

    /// <summary>Counts the ports the status files list, per hub; <paramref name="portCount"/> is the kernel's nports.</summary>
    public static VhciCapacity Count(IReadOnlyList<VhciController> controllers, IReadOnlyList<UsbIpPort> ports, int? portCount) =>
        new(controllers.Count, portCount, VhciHubCapacity.Count(VhciHub.HighSpeed, ports), VhciHubCapacity.Count(VhciHub.SuperSpeed, ports));
}
