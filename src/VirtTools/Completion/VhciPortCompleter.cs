using System.Globalization;
using VirtTools.Sysfs;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Commands.Completion;

/// <summary>Completes vhci_hcd port numbers (as `usbip port` prints them) on every controller.</summary>
public class VhciPortCompleter : VirtToolsCompleter
{
    protected override IEnumerable<CompletionCandidate> Candidates(SystemRoot root) =>
        new VhciReader(root).GetPorts().Where(Offers).Select(p => new CompletionCandidate(
            p.Port.ToString(CultureInfo.InvariantCulture), Describe(p)));

    /// <summary>Which ports this completer offers.</summary>
    protected virtual bool Offers(UsbIpPort port) => true;

    /// <summary>"vhci_hcd.0 SuperSpeed InUse 4-1 from 10.0.0.5:3240/2-3".</summary>
    private static string Describe(UsbIpPort port)
    {
        var text = $"{port.Controller} {port.Hub} {port.Status?.ToString() ?? "Unknown"}";
        if (port.LocalBusId is not null) text += " " + port.LocalBusId;
        if (port.RemoteHost is not null) text += $" from {port.RemoteHost}:{port.RemoteTcpPort}/{port.RemoteBusId}";
        return text;
    }
}
