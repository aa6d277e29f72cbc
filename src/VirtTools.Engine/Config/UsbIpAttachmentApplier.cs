using System.Globalization;
using VirtTools.Usb;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Containers;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Config;

/// <summary>
/// A profile's attachment applied the way Connect-UsbIpDevice does it (import, vhci attach, the /run/vhci_hcd record;
/// with <c>container:</c>, the device given to that container as Connect-UsbIpDevice -Container gives it).
/// A rule that names the device by ids rather than bus id asks the server's device list first: the list carries
/// vendor and product but no serial, so a serial is checked on the attached device by the next drift reading. A
/// record the server listed but the client left out (UsbIpInvalidDeviceRecord) that fits the rule fails the attach:
/// it may be the very device the rule means, so neither it nor another match is taken.
/// </summary>
public sealed class UsbIpAttachmentApplier : IUsbIpAttachmentApplier
{
    public TimeSpan Timeout { get; init; } = UsbIpClient.DefaultTimeout;

    /// <summary>How soon a vanished server's port is freed, so the agent can notice and re-attach; a rule's own (the profile's usbip.deadPeerTimeout) comes first.</summary>
    public UsbIpDeadPeerPolicy DeadPeer { get; init; } = UsbIpDeadPeerPolicy.Default;

    public void Attach(SystemRoot root, UsbIpAttachmentRule rule, CancellationToken cancellation) =>
        ApplierBoundary.Run($"Attaching {rule.Match} from {UsbIpClient.Describe(rule.ComputerName, rule.TcpPort)}", rule.ComputerName, cancellation, () =>
        {
            var timeout = TimeoutOf(rule);
            var busId = rule.Match.BusId ?? FindOnServer(rule, timeout, cancellation);
            var attacher = new VhciAttacher(root, UsbIpClient.ImporterWith(rule.Tls), rule.DeadPeer ?? DeadPeer);
            if (rule.Container is { } container)
                new ContainerUsbAttacher(attacher, ContainerManager.For(root))
                    .ConnectAsync(rule.ComputerName, rule.TcpPort, busId, container, rule.DedicatedController, timeout, cancellation).GetAwaiter().GetResult();
            else
                attacher.ConnectAsync(rule.ComputerName, rule.TcpPort, busId, timeout, cancellation).GetAwaiter().GetResult();
        });

    /// <summary>The rule's own timeoutSec (the profile's) comes before the applier's.</summary>
    private TimeSpan TimeoutOf(UsbIpAttachmentRule rule) => rule.TimeoutSec is int seconds ? TimeSpan.FromSeconds(seconds) : Timeout;

    private static UsbBusId FindOnServer(UsbIpAttachmentRule rule, TimeSpan timeout, CancellationToken cancellation)
    {
        var offered = UsbIpClient.ListDevicesAsync(rule.ComputerName, rule.TcpPort, timeout, cancellation, rule.Tls).GetAwaiter().GetResult();
        bool Wanted(UsbIpDeviceRecord device) => Fits(rule.Match.VendorId, device.VendorId) && Fits(rule.Match.ProductId, device.ProductId);
        if (offered.Refused.FirstOrDefault(refused => Wanted(refused.Record)) is { } unusable) throw unusable.Problem;
        var matching = offered.Where(Wanted).ToList();
        var server = UsbIpClient.Describe(rule.ComputerName, rule.TcpPort);
        return matching.Count switch
        {
            1 => UsbBusId.Parse(matching[0].BusId), // a listed record passed UsbIpDeviceRecordCheck
            0 => throw new VirtToolsException(UsbIpErrors.DeviceNotFoundId, FailureKind.NotFound,
                $"{server} offers no device that matches {rule.Match} ({offered.Count} offered; a device in use by another client is not offered).",
                $"Check with Get-UsbIpDevice -ComputerName {rule.ComputerName} -TcpPort {rule.TcpPort} that the server exports it.", rule.ComputerName),
            _ => throw new VirtToolsException(ConfigErrors.AttachmentAmbiguousId, FailureKind.InvalidData,
                $"{server} offers {matching.Count} devices that match {rule.Match} ({string.Join(", ", matching.Select(d => d.BusId))}); the device list carries no serial to tell them apart.",
                "Name the device by busId in the profile.", rule.ComputerName),
        };
    }

    private static bool Fits(string? wanted, ushort id) =>
        wanted is null || string.Equals(wanted, id.ToString("x4", CultureInfo.InvariantCulture), StringComparison.OrdinalIgnoreCase);
}
