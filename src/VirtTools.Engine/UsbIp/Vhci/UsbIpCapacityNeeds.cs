namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// What a target takes on one hub: the controllers and ports per controller of a vhci-hcd build that holds it, the
/// kernel options (and module parameters, on a vhci_hcd that has them) that make that build, whether usbcore's bus
/// numbers allow it, and otherwise how many hosts of the largest build it takes.
/// </summary>
public sealed record UsbIpCapacityNeeds(int Devices, int Controllers, int PortsPerController, bool WithinBusLimit, int Hosts,
    IReadOnlyList<string> KernelConfig, IReadOnlyList<string> ModuleParameters, string Summary)
{
    public override string ToString() => Summary;
}
