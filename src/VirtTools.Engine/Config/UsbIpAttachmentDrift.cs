using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Config;

/// <summary>
/// usbip.attachments rules against the vhci_hcd ports: a port in use whose /run/vhci_hcd record names the rule's
/// server and TCP port, and whose device is the one the match names (the remote bus id from the record, or the
/// imported device's own vendor, product and serial), given to the container the rule names, or to none.
/// </summary>
internal static class UsbIpAttachmentDrift
{
    public static IEnumerable<DriftItem> Evaluate(SystemRoot root, IReadOnlyList<UsbIpAttachmentRule> rules, IUsbIpAttachmentApplier attacher)
    {
        if (rules.Count == 0) return Array.Empty<DriftItem>();
        var ports = new VhciReader(root).GetPorts().Where(p => p.IsInUse && p.RemoteHost is not null).ToList();
        var devices = new UsbDeviceReader(root);
        return rules.Select(rule =>
        {
            var port = ports.FirstOrDefault(p => Serves(p, rule, devices));
            return new DriftItem
            {
                Drift = new VirtHostDrift
                {
                    Area = VirtHostArea.UsbIpAttachment,
                    Item = $"{rule.ComputerName}:{rule.TcpPort} {rule.Match}{(rule.Container is null ? "" : $" for container {rule.Container}{(rule.DedicatedController ? " on a controller of its own" : "")}")}",
                    Desired = "attached",
                    Actual = port is null ? "not attached" : $"attached on vhci port {port.Port} as {port.LocalBusId}",
                    InSync = port is not null,
                    Location = rule.Location,
                    Root = root.Path,
                },
                PlanFix = port is not null ? null : () => Fix(root, rule, attacher),
            };
        }).ToList();
    }

    private static bool Serves(UsbIpPort port, UsbIpAttachmentRule rule, UsbDeviceReader devices)
    {
        if (!UsbIpServerName.Same(port.RemoteHost, rule.ComputerName)) return false;
        if ((port.RemoteTcpPort ?? UsbIpProtocol.DefaultTcpPort) != rule.TcpPort) return false;
        // The host's own attachment does not serve a container's rule, nor one container's another's.
        if (port.Container != rule.Container) return false;
        // A rule that wants a controller of the container's own is not served by a port placed anywhere.
        if (rule.DedicatedController && !port.ContainerDedicatedController) return false;
        if (rule.Match.BusId is { } busId) return port.RemoteBusId == busId;
        // Just attached, the kernel may not have enumerated the device yet: the port is this server's, take it as ours
        // rather than attach a second time. Once the device shows, its ids and serial decide.
        if (port.LocalBusId is not { } local || devices.Find(local) is not { } device) return true;
        return rule.Match.Matches(device);
    }

    private static DriftFix Fix(SystemRoot root, UsbIpAttachmentRule rule, IUsbIpAttachmentApplier attacher)
    {
        return new DriftFix($"Attach {rule.Match} from {rule.ComputerName}:{rule.TcpPort}",
            cancellation => attacher.Attach(root, rule, cancellation), SyncOutcome.RolledBack);
    }
}
