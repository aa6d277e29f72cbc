using System.Globalization;
using VirtTools.Ids;
using VirtTools.Sysfs;

namespace VirtTools.Usb;

/// <summary>
/// Reads USB devices from /sys/bus/usb/devices under a root. Every device is read fresh, so the numbers that
/// change on replug are current; a device that vanishes between listing and reading is simply left out.
/// </summary>
public sealed class UsbDeviceReader
{
    public const string DevicesPath = "/sys/bus/usb/devices";

    private const string UsbfsPrefix = "/dev/bus/usb/";

    private const string VhciPlatformPrefix = "/sys/devices/platform/vhci_hcd.";

    private readonly Lazy<IdsDatabase?> _ids;

    /// <param name="root">The tree to read.</param>
    /// <param name="idsSystem">Where names come from when the root has no ids file: this machine unless a test says.</param>
    public UsbDeviceReader(SystemRoot root, SystemRoot? idsSystem = null)
    {
        Root = root;
        _ids = new Lazy<IdsDatabase?>(() => IdsDatabase.ForUsb(root, idsSystem ?? SystemRoot.Live));
    }

    public SystemRoot Root { get; }

    /// <summary>The usb.ids names come from; null when neither the root nor this system has one.</summary>
    public IdsDatabase? Names => _ids.Value;

    /// <summary>Bus ids of every device, root hubs included, in bus and port order; empty without /sys/bus/usb.</summary>
    public IReadOnlyList<UsbBusId> GetBusIds()
    {
        var ids = new List<UsbBusId>();
        foreach (var name in Root.Directory(DevicesPath).EntryNames())
            if (UsbBusId.TryParse(name, out var busId)) ids.Add(busId);
        ids.Sort();
        return ids;
    }

    /// <summary>Every device, hubs included, in bus and port order.</summary>
    public IEnumerable<UsbDevice> GetDevices()
    {
        foreach (var busId in GetBusIds())
            if (Find(busId) is { } device) yield return device;
    }

    /// <summary>The device with this bus id; null when there is none.</summary>
    public UsbDevice? Find(UsbBusId busId)
    {
        var link = Root.Directory(DevicesPath + "/" + busId);
        if (!link.Exists) return null;
        var dir = link.Resolved();
        var sysfsPath = Root.ToSystemPath(dir.Path);
        var ids = _ids.Value;

        int? vendor = dir.Hex("idVendor"), product = dir.Hex("idProduct"), deviceClass = dir.Hex("bDeviceClass");
        int? bus = dir.Int("busnum") ?? busId.Bus, number = dir.Int("devnum");
        var speedMbps = UsbSpeeds.ParseMbps(dir.String("speed"));
        var driver = dir.LinkName("driver");
        bool isHub = busId.IsRootHub || UsbClassCode.Format(deviceClass) == UsbClassCode.Hub;
        return new UsbDevice
        {
            BusId = busId,
            BusNumber = bus,
            DeviceNumber = number,
            DevicePath = bus is int b && number is int n ? string.Create(CultureInfo.InvariantCulture, $"/dev/bus/usb/{b:000}/{n:000}") : null,
            UsbId = vendor is >= 0 and <= 0xffff && product is >= 0 and <= 0xffff ? new UsbId((ushort)vendor, (ushort)product) : null,
            DeviceRelease = dir.Id("bcdDevice"),
            Manufacturer = NonEmpty(dir.String("manufacturer")),
            Product = NonEmpty(dir.String("product")),
            SerialNumber = NonEmpty(dir.String("serial")),
            VendorName = ids?.VendorName(vendor),
            ProductName = ids?.DeviceName(vendor, product),
            SpeedMbps = speedMbps,
            Speed = UsbSpeeds.FromMbps(speedMbps),
            UsbVersion = NonEmpty(dir.String("version")),
            DeviceClass = UsbClassCode.Format(deviceClass),
            DeviceSubClass = UsbClassCode.Format(dir.Hex("bDeviceSubClass")),
            DeviceProtocol = UsbClassCode.Format(dir.Hex("bDeviceProtocol")),
            DeviceClassName = ids?.ClassName(deviceClass),
            NameSource = ids?.SourcePath,
            Configuration = dir.Int("bConfigurationValue"),
            PortClaimed = PortClaimedOf(dir, busId, driver),
            ConfigurationCount = dir.Int("bNumConfigurations"),
            InterfaceCount = dir.Int("bNumInterfaces"),
            Interfaces = ReadInterfaces(dir, ids),
            Driver = driver,
            IsHub = isHub,
            PortCount = isHub ? dir.Int("maxchild") : null,
            Nodes = isHub ? Array.Empty<string>() : ChildNodesOf(busId),
            UsbIpStatus = driver == UsbDeviceDrivers.UsbIpHost ? UsbDeviceDrivers.ReadUsbIpStatus(dir) : null,
            VhciController = VhciControllerOf(sysfsPath),
            SysfsPath = sysfsPath,
            Root = Root.Path,
        };
    }

    private static UsbInterface[] ReadInterfaces(SysfsDirectory device, IdsDatabase? ids) =>
        device.EntryNames()
            .Where(name => name.Contains(':', StringComparison.Ordinal) && device.Has(name + "/bInterfaceClass"))
            .Select(name =>
            {
                var dir = device.Child(name);
                var cls = dir.Hex("bInterfaceClass");
                return new UsbInterface
                {
                    Name = name,
                    Number = dir.Hex("bInterfaceNumber"),
                    AlternateSetting = dir.Int("bAlternateSetting"),
                    Class = UsbClassCode.Format(cls),
                    SubClass = UsbClassCode.Format(dir.Hex("bInterfaceSubClass")),
                    Protocol = UsbClassCode.Format(dir.Hex("bInterfaceProtocol")),
                    ClassName = ids?.ClassName(cls),
                    EndpointCount = dir.Hex("bNumEndpoints"),
                    Description = NonEmpty(dir.String("interface")),
                    Driver = dir.LinkName("driver"),
                };
            })
            .OrderBy(i => i.Number ?? int.MaxValue).ThenBy(i => i.Name, StringComparer.Ordinal)
            .ToArray();

    /// <summary>What the kernel shows of the claim on the device's port (see <see cref="UsbDevice.PortClaimed"/>).</summary>
    private static bool? PortClaimedOf(SysfsDirectory device, UsbBusId busId, string? driver)
    {
        if (busId.IsRootHub) return null;
        if (driver == UsbDeviceDrivers.UsbIpHost) return true;
        bool unconfigured = device.Has("bConfigurationValue") && string.IsNullOrEmpty(device.String("bConfigurationValue"));
        return driver == UsbDeviceDrivers.Generic && unconfigured && device.Int("bNumConfigurations") > 0 && device.Int("authorized") != 0
            ? true : null;
    }

    /// <summary>The nodes below the device, less its own usbfs node (the first one found, when it has one).</summary>
    private string[] ChildNodesOf(UsbBusId busId) =>
        (UsbDeviceNodes.Find(Root, busId) ?? Array.Empty<DeviceNode>())
            .Select(node => node.Path).Where(path => !path.StartsWith(UsbfsPrefix, StringComparison.Ordinal)).ToArray();

    /// <summary>"vhci_hcd.3" when the device's real place is below /sys/devices/platform/vhci_hcd.3.</summary>
    private static string? VhciControllerOf(string sysfsPath)
    {
        if (!sysfsPath.StartsWith(VhciPlatformPrefix, StringComparison.Ordinal)) return null;
        int end = sysfsPath.IndexOf('/', VhciPlatformPrefix.Length);
        return sysfsPath["/sys/devices/platform/".Length..(end < 0 ? sysfsPath.Length : end)];
    }

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
