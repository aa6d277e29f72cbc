using VirtTools.Sysfs;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// The devices bound to usbip-host under a root, described as usbipd describes them: the record fields from the
/// device's sysfs attributes, and one interface record per "busid:config.n" directory, in order.
/// </summary>
public sealed class SysfsExportedDeviceSource : IExportedDeviceSource
{
    private const string DriverPath = "/sys/bus/usb/drivers/usbip-host";

    private readonly SystemRoot _root;

    public SysfsExportedDeviceSource(SystemRoot root) => _root = root;

    public IReadOnlyList<ExportedDevice> ReadExportedDevices()
    {
        var driver = _root.Directory(DriverPath);
        var devices = new List<ExportedDevice>();
        foreach (var busId in driver.EntryNames())
        {
            // The driver directory also holds bind, unbind, match_busid, module...; devices are links with a busnum.
            if (!char.IsAsciiDigit(busId[0]) || busId.Contains(':')) continue;
            var device = driver.Child(busId).Resolved();
            if (Read(device, busId) is { } record)
                devices.Add(new ExportedDevice(record, (UsbIpHostStatus)(device.Int("usbip_status") ?? 0)));
        }
        return devices;
    }

    private UsbIpDeviceRecord? Read(SysfsDirectory device, string busId)
    {
        if (device.Int("busnum") is not int busNumber || device.Int("devnum") is not int deviceNumber) return null;
        var configuration = (byte)(device.Int("bConfigurationValue") ?? 0);
        var interfaceCount = Math.Min(device.Int("bNumInterfaces") ?? 0, UsbIpProtocol.MaxInterfaces);
        var interfaces = new List<UsbIpInterfaceRecord>(interfaceCount);
        for (var i = 0; i < interfaceCount; i++)
        {
            var item = device.Child($"{busId}:{configuration}.{i}");
            interfaces.Add(new UsbIpInterfaceRecord(Byte(item.Hex("bInterfaceClass")), Byte(item.Hex("bInterfaceSubClass")), Byte(item.Hex("bInterfaceProtocol"))));
        }
        return new UsbIpDeviceRecord
        {
            Path = _root.ToSystemPath(device.Path),
            BusId = busId,
            BusNumber = (uint)busNumber,
            DeviceNumber = (uint)deviceNumber,
            Speed = UsbIpSpeeds.FromSysfs(device.String("speed")),
            VendorId = (ushort)(device.Hex("idVendor") ?? 0),
            ProductId = (ushort)(device.Hex("idProduct") ?? 0),
            BcdDevice = (ushort)(device.Hex("bcdDevice") ?? 0),
            DeviceClass = Byte(device.Hex("bDeviceClass")),
            DeviceSubClass = Byte(device.Hex("bDeviceSubClass")),
            DeviceProtocol = Byte(device.Hex("bDeviceProtocol")),
            ConfigurationValue = configuration,
            NumConfigurations = (byte)(device.Int("bNumConfigurations") ?? 0),
            NumInterfaces = (byte)interfaces.Count,
            Interfaces = interfaces,
        };
    }

    private static byte Byte(int? value) => (byte)(value ?? 0);
}
