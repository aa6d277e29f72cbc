using VirtTools.Sysfs;

namespace VirtTools.Config;

/// <summary>
/// Attaches a remote device to a free vhci_hcd port, as Connect-UsbIpDevice does (import, attach, the
/// /run/vhci_hcd record). Sync-VirtHostConfig calls it for an attachment that drifts; the rule's match names the
/// device by its remote bus id or by vendor and product. It throws a VirtToolsException when it fails, after
/// undoing its own partial work (a half-made import closed, no port left taken).
/// </summary>
public interface IUsbIpAttachmentApplier
{
    void Attach(SystemRoot root, UsbIpAttachmentRule rule, CancellationToken cancellation);
}
