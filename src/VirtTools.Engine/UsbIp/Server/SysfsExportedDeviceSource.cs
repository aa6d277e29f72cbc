using System.Globalization;
using System.Text;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Host;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// The devices bound to usbip-host under a root, read from sysfs each time, described as usbipd describes them: the
/// record fields from the device, and one interface record per "busid:config.n", n counting from 0 to bNumInterfaces
/// (zeros where the interface directory is missing, as usbipd sends them). The path sent is the device's place in
/// /sys/devices as seen inside the root, as usbipd sends udev's syspath: never the root's own folder, never a place
/// outside it. A device that vanishes while it is read, or whose link leads out of the root (its attributes would be
/// someone else's), is left out; the others are still listed.
/// </summary>
public sealed class SysfsExportedDeviceSource : IExportedDeviceSource
{
    /// <summary>Links followed at most from /sys/bus/usb/devices/BUSID to the device (the kernel's own limit is 40).</summary>
    private const int MaxLinkHops = 40;

    private readonly UsbDeviceReader _devices;
    private readonly UsbIpHostReader _host;

    public SysfsExportedDeviceSource(SystemRoot root)
    {
        _devices = new UsbDeviceReader(root);
        _host = new UsbIpHostReader(_devices);
    }

    public SystemRoot Root => _devices.Root;

    public IReadOnlyList<ExportedDevice> ReadExportedDevices() => Read(BoundBusIds()).Select(d => d.Device).ToList();

    /// <summary>The bus ids bound to usbip-host now (one directory listing), in bus and port order.</summary>
    internal IReadOnlyList<UsbBusId> BoundBusIds()
    {
        var busIds = _host.GetBoundBusIds().ToList();
        busIds.Sort();
        return busIds;
    }

    /// <summary>Each of these devices that can be read, with the directory its usbip_status lives in.</summary>
    internal IReadOnlyList<ExportedDeviceReading> Read(IReadOnlyList<UsbBusId> busIds)
    {
        var devices = new List<ExportedDeviceReading>(busIds.Count);
        foreach (var busId in busIds)
            if (TryRead(busId) is { } device) devices.Add(device);
        return devices;
    }

    private ExportedDeviceReading? TryRead(UsbBusId busId)
    {
        try
        {
            // The path inside the root, and the place the reader read: they differ when the device was replaced
            // between the two; a device whose link leads out of the root has no path inside it and is not read.
            var path = DevicePathInsideRoot(busId);
            if (path is null || _devices.Find(busId) is not { } device || device.SysfsPath != path) return null;
            return ToRecord(device, path) is { } record
                ? new ExportedDeviceReading(new ExportedDevice(record, device.UsbIpStatus), Root.Directory(path))
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // unplugged or unbound while it was read: the others are still listed
        }
    }

    /// <summary>
    /// Where /sys/bus/usb/devices/BUSID leads, as a system path inside the root ("/sys/devices/..."), followed the way
    /// the reader follows it; null when the link dangles or loops, or when under -Root it leads out of the root: an
    /// absolute target (sysfs's own links are all relative, and the OS would follow it to this host's files) or
    /// enough ".." to climb above it.
    /// </summary>
    private string? DevicePathInsideRoot(UsbBusId busId)
    {
        var path = Root.Resolve(UsbDeviceReader.DevicesPath + "/" + busId);
        for (var hop = 0; hop <= MaxLinkHops; hop++)
        {
            var target = new FileInfo(path).LinkTarget;
            if (target is null) return Directory.Exists(path) ? Root.ToSystemPath(path) : null;
            if (target.StartsWith('/') && !Root.IsLive) return null;
            path = Path.GetFullPath(target.StartsWith('/') ? target : Path.GetDirectoryName(path) + "/" + target);
            if (!Root.IsLive && !path.StartsWith(Root.Path + "/", StringComparison.Ordinal)) return null;
        }
        return null;
    }

    private static UsbIpDeviceRecord? ToRecord(UsbDevice device, string path)
    {
        if (device.BusNumber is not int busNumber || device.DeviceNumber is not int deviceNumber) return null;
        // A name that does not fit the 32-byte field is not a kernel's; a path that does not fit is cut, as usbipd does.
        var busId = device.BusId.ToString();
        if (Encoding.UTF8.GetByteCount(busId) >= UsbIpProtocol.BusIdFieldSize) return null;
        var configuration = (byte)(device.Configuration ?? 0);
        var interfaceCount = Math.Clamp(device.InterfaceCount ?? 0, 0, UsbIpProtocol.MaxInterfaces);
        var interfaces = new List<UsbIpInterfaceRecord>(interfaceCount);
        for (var i = 0; i < interfaceCount; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{device.BusId}:{configuration}.{i}");
            var item = device.Interfaces.FirstOrDefault(x => x.Name == name);
            interfaces.Add(new UsbIpInterfaceRecord(Byte(item?.Class), Byte(item?.SubClass), Byte(item?.Protocol)));
        }
        return new UsbIpDeviceRecord
        {
            Path = FitPath(path),
            BusId = busId,
            BusNumber = (uint)busNumber,
            DeviceNumber = (uint)deviceNumber,
            // The same codes; wireless USB ("53.3-480"), which the kernel dropped in 5.x, reads as unknown.
            Speed = device.Speed,
            VendorId = device.UsbId?.Vendor ?? 0,
            ProductId = device.UsbId?.Product ?? 0,
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

    /// <summary>The path cut to the 255 bytes the field holds before its NUL (usbipd: strncpy of SYSFS_PATH_MAX - 1).</summary>
    private static string FitPath(string path)
    {
        var limit = UsbIpProtocol.PathFieldSize - 1;
        if (Encoding.UTF8.GetByteCount(path) <= limit) return path;
        var length = Math.Min(path.Length, limit);
        while (Encoding.UTF8.GetByteCount(path.AsSpan(0, length)) > limit) length--;
        if (length > 0 && char.IsHighSurrogate(path[length - 1])) length--;
        return path[..length];
    }

    /// <summary>A two-digit hex class code as the byte on the wire; 0 when unknown.</summary>
    private static byte Byte(string? hex) => (byte)(SysfsText.ParseHex(hex) ?? 0);
}

/// <summary>A device as read, and its sysfs directory (inside the root), where usbip_status can be read again.</summary>
internal sealed record ExportedDeviceReading(ExportedDevice Device, SysfsDirectory Directory);
