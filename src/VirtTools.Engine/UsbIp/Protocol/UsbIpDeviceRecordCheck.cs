using VirtTools.Usb;

namespace VirtTools.UsbIp.Protocol;

/// <summary>
/// Whether a usbip_usb_device a server sent can be used as it is. The decoder keeps the wire's framing (every
/// record read whole, bNumInterfaces bounded); this checks the values a client passes on: the bus id goes back
/// into an import request, sysfs and /run/vhci_hcd, the speed and the bus and device numbers into vhci_hcd's attach
/// file, the path onto a person's screen.
/// </summary>
public static class UsbIpDeviceRecordCheck
{
    /// <summary>What is wrong with the record, as a clause ("its bus id ... is empty"); null when nothing is.</summary>
    public static string? FindProblem(UsbIpDeviceRecord record)
    {
        if (UsbIpBusIdText.FindProblem(record.BusId) is { } busId)
            return $"its bus id {UsbIpPeerText.Quote(record.BusId)} {busId}";
        if (record.Path.Length >= UsbIpProtocol.PathFieldSize)
            return $"its path fills the whole {UsbIpProtocol.PathFieldSize}-byte field with no terminating NUL";
        if (!UsbIpPeerText.IsPrintableAscii(record.Path))
            return $"its path {UsbIpPeerText.Quote(record.Path)} holds characters that are not printable ASCII";
        if (!Enum.IsDefined(record.Speed))
            return $"its speed code {(uint)record.Speed} is none the kernel knows (0 to {(int)UsbSpeed.SuperPlus})";
        // vhci_hcd's attach and the URB headers carry the device as (busnum << 16) | devnum.
        if (record.BusNumber > ushort.MaxValue || record.DeviceNumber > ushort.MaxValue)
            return $"its bus and device numbers {record.BusNumber} and {record.DeviceNumber} do not fit the 16 bits each has in a device id";
        return null;
    }
}
