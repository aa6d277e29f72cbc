using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.UsbIp.Host;

/// <summary>
/// Reads the export side of USB/IP: the usbip-host driver's bound devices, its match_busid table and each device's
/// usbip_status. A missing driver directory (module not loaded) reads as no exports, not as a failure.
/// </summary>
public sealed class UsbIpHostReader
{
    public const string DriverName = UsbDeviceDrivers.UsbIpHost;
    public const string DriverPath = "/sys/bus/usb/drivers/" + DriverName;
    public const string MatchBusIdFile = "match_busid";
    public const string StatusAttribute = UsbDeviceDrivers.UsbIpStatusAttribute;

    private readonly UsbDeviceReader _devices;

    public UsbIpHostReader(SystemRoot root) : this(new UsbDeviceReader(root)) { }

    public UsbIpHostReader(UsbDeviceReader devices) => _devices = devices;

    public SystemRoot Root => _devices.Root;

    public SysfsDirectory Driver => Root.Directory(DriverPath);

    /// <summary>usbip-host is loaded (its driver directory exists).</summary>
    public bool IsDriverLoaded => Driver.Exists;

    /// <summary>The bus ids in match_busid (the devices usbip-host may claim); empty when the driver is not loaded.</summary>
    public IReadOnlyList<UsbBusId> GetMatchBusIds() => ParseBusIds((Driver.Text(MatchBusIdFile) ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The bus ids of devices bound to usbip-host now (the device links in its driver directory).</summary>
    public IReadOnlyList<UsbBusId> GetBoundBusIds() => ParseBusIds(Driver.EntryNames());

    /// <summary>Every bound or matched device, in bus and port order.</summary>
    public IEnumerable<UsbIpExport> GetExports()
    {
        var bound = GetBoundBusIds().ToHashSet();
        var matched = GetMatchBusIds().ToHashSet();
        var busIds = bound.Union(matched).ToList();
        busIds.Sort();
        return busIds.Select(busId => Read(busId, bound.Contains(busId), matched.Contains(busId)));
    }

    /// <summary>The export at this bus id; null when usbip-host neither holds nor matches it.</summary>
    public UsbIpExport? Find(UsbBusId busId)
    {
        bool bound = Driver.Has(busId.ToString()), matched = GetMatchBusIds().Contains(busId);
        return bound || matched ? Read(busId, bound, matched) : null;
    }

    private UsbIpExport Read(UsbBusId busId, bool bound, bool matched)
    {
        var device = _devices.Find(busId);
        var status = bound && device is not null ? device.UsbIpStatus : null;
        return new UsbIpExport
        {
            BusId = busId,
            IsBound = bound,
            IsInMatchTable = matched,
            Status = status,
            Holder = UsbIpHolderRecord.ReadCurrent(Root, busId.ToString(), status),
            Device = device,
            Root = Root.Path,
        };
    }

    /// <summary>The names that are device bus ids (the driver directory also holds bind, unbind, module ...).</summary>
    private static List<UsbBusId> ParseBusIds(IEnumerable<string> names)
    {
        var busIds = new List<UsbBusId>();
        foreach (var name in names)
            if (UsbBusId.TryParse(name, out var busId) && !busId.IsRootHub) busIds.Add(busId);
        return busIds;
    }
}
