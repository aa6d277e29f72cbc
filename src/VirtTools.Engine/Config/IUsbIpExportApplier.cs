using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.Config;

/// <summary>
/// Shares one local USB device through usbip-host, as Export-UsbIpDevice does (match_busid, unbind, bind, verify).
/// Sync-VirtHostConfig calls it for an export that drifts, with the bus id the device has now. It throws a
/// VirtToolsException when it fails, after undoing its own partial work, so the device is as it was.
/// </summary>
public interface IUsbIpExportApplier
{
    void Export(SystemRoot root, UsbBusId busId, CancellationToken cancellation);
}
