namespace VirtTools.UsbIp.Vhci;

/// <summary>How many devices this host can import: controllers, ports, and how many are free on each hub.</summary>
/// <remarks>This is the one place vhci capacity is counted; Get-VirtHost and Get-UsbIpPort read it from here.</remarks>
public sealed record VhciCapacity(int Controllers, int? PortCount, int HighSpeedPorts, int SuperSpeedPorts,
    int FreeHighSpeedPorts, int FreeSuperSpeedPorts, int PortsInUse)
{
    /// <summary>No vhci_hcd controller: the vhci-hcd module is not loaded.</summary>
    public bool IsAvailable => Controllers > 0;
}
