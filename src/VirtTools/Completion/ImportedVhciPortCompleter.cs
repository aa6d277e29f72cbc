using VirtTools.UsbIp;

namespace VirtTools.Commands.Completion;

/// <summary>Completes the vhci ports Disconnect-UsbIpDevice can detach: those with a device attached.</summary>
public sealed class ImportedVhciPortCompleter : VhciPortCompleter
{
    protected override bool Offers(UsbIpPort port) => port.Status is UsbIpPortStatus.InUse or UsbIpPortStatus.Error;
}
