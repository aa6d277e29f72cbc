using VirtTools.Sysfs;
using VirtTools.UsbIp.Host;

namespace VirtTools.Commands.Completion;

/// <summary>Completes the bus ids this host shares over USB/IP (bound to usbip-host or in its match table).</summary>
public sealed class UsbIpExportBusIdCompleter : VirtToolsCompleter
{
    protected override IEnumerable<CompletionCandidate> Candidates(SystemRoot root) =>
        new UsbIpHostReader(root).GetExports().Select(e => new CompletionCandidate(e.BusId.ToString(),
            e.Device is { } device ? $"{e.Status?.ToString() ?? "NotBound"} {UsbBusIdCompleter.Describe(device)}" : "Unplugged"));
}
