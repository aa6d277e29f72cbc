using System.Globalization;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Host;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// The devices bound to usbip-host under a root, as <see cref="UsbIpHostReader"/> reads them, described as usbipd
/// describes them: the record fields from the device, and one interface record per "busid:config.n", n counting
/// from 0 to bNumInterfaces (zeros where the interface directory is missing, as usbipd sends them).
/// </summary>
public sealed class SysfsExportedDeviceSource : IExportedDeviceSource
{
    private readonly UsbIpHostReader _host;

    public SysfsExportedDeviceSource(SystemRoot root) => _host = new UsbIpHostReader(root);

    public IReadOnlyList<ExportedDevice> ReadExportedDevices() =>
        _host.GetExports()
            .Where(e => e.IsBound)
            .Select(e => e.Device is { } device && ToRecord(device) is { } record ? new ExportedDevice(record, e.Status) : null)
            .OfType<ExportedDevice>()
            .ToList();

    private static UsbIpDeviceRecord? ToRecord(UsbDevice device)
    {
        if (device.BusNumber is not int busNumber || device.DeviceNumber is not int deviceNumber || device.SysfsPath is null) return null;
        var configuration = (byte)(device.Configuration ?? 0);
        var interfaceCount = Math.Min(device.InterfaceCount ?? 0, UsbIpProtocol.MaxInterfaces);
        var interfaces = new List<UsbIpInterfaceRecord>(interfaceCount);
        for (var i = 0; i < interfaceCount; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{device.BusId}:{configuration}.{i}");
            var item = device.Interfaces.FirstOrDefault(x => x.Name == name);
            interfaces.Add(new UsbIpInterfaceRecord(Byte(item?.Class), Byte(item?.SubClass), Byte(item?.Protocol)));
        }
        return new UsbIpDeviceRecord
        {
            Path = device.SysfsPath,
            BusId = device.BusId,
            BusNumber = (uint)busNumber,
            DeviceNumber = (uint)deviceNumber,
            // The same codes; wireless USB ("53.3-480"), which the kernel dropped in 5.x, reads as unknown.
            Speed = device.Speed,
            VendorId = (ushort)(SysfsText.ParseHex(device.VendorId) ?? 0),
            ProductId = (ushort)(SysfsText.ParseHex(device.ProductId) ?? 0),
            BcdDevice = (ushort)(SysfsText.ParseHex(device.DeviceRelease) ?? 0),
            DeviceClass = Byte(device.DeviceClass),
            DeviceSubClass = Byte(device.DeviceSubClass),
            DeviceProtocol = Byte(device.DeviceProtocol),
            ConfigurationValue = configuration,
            NumConfigurations = (byte)(device.ConfigurationCount ?? 0),
            NumInterfaces = (byte)interfaces.Count,
            Interfaces = interfaces,
        };
    }

    /// <summary>A two-digit hex class code as the byte on the wire; 0 when unknown.</summary>
    private static byte Byte(string? hex) => (byte)(SysfsText.ParseHex(hex) ?? 0);
}
