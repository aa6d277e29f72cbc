namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// One root hub kind (USB 2 or USB 3) across every vhci_hcd controller: its ports, how many hold a device, how many
/// are free, and how many each controller has. Ports that are neither (a device still being reset, an error) count
/// in <see cref="Ports"/> only.
/// </summary>
public sealed record VhciHubCapacity(VhciHub Hub, int Ports, int InUse, int Free, int PortsPerController)
{
    public static VhciHubCapacity Count(VhciHub hub, IReadOnlyList<UsbIpPort> ports)
    {
        var ofHub = ports.Where(p => p.Hub == hub).ToList();
        // Every controller of a kernel has the same build; the largest count tells a half-read status file apart.
        var perController = ofHub.GroupBy(p => p.ControllerIndex).Select(g => g.Count()).DefaultIfEmpty(0).Max();
        return new VhciHubCapacity(hub, ofHub.Count, ofHub.Count(p => p.IsInUse), ofHub.Count(p => p.IsFree), perController);
    }
}
