using System.Globalization;
using VirtTools.Ids;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// Reads PCI functions from /sys/bus/pci/devices under a root. Stateless apart from the root and the
/// pci.ids names: every call reads sysfs afresh, so callers see what the kernel shows now.
/// </summary>
public sealed class PciDeviceReader
{
    public const string DevicesPath = "/sys/bus/pci/devices";
    public const string DriversPath = "/sys/bus/pci/drivers";

    private readonly Lazy<IdsDatabase?> _names;

    /// <param name="root">The tree to read.</param>
    /// <param name="idsSystem">Where names come from when the root has no ids file: this machine unless a test says.</param>
    public PciDeviceReader(SystemRoot root, SystemRoot? idsSystem = null)
    {
        Root = root;
        _names = new Lazy<IdsDatabase?>(() => IdsDatabase.ForPci(root, idsSystem ?? SystemRoot.Live));
    }

    public SystemRoot Root { get; }

    /// <summary>The pci.ids names come from; null when neither the root nor this system has one.</summary>
    public IdsDatabase? Names => _names.Value;

    /// <summary>Every name of a function's class, most specific first; empty without pci.ids.</summary>
    public IReadOnlyList<string> ClassNames(PciDevice device) =>
        Names is { } names && device.ClassCode is { Length: 8 } code
        && int.TryParse(code.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var c)
            ? names.ClassNames(c >> 16, (c >> 8) & 0xff, c & 0xff)
            : Array.Empty<string>();

    /// <summary>The address of every function, parsed once from the kernel's directory names, in numeric order.</summary>
    public IReadOnlyList<PciAddress> Addresses()
    {
        var addresses = new List<PciAddress>();
        foreach (var name in Root.Directory(DevicesPath).EntryNames())
            if (PciAddress.TryParseKernelName(name, out var address)) addresses.Add(address);
        addresses.Sort();
        return addresses;
    }

    /// <summary>The PCI drivers the kernel has registered (loaded modules and built-ins), sorted.</summary>
    public IReadOnlyList<string> DriverNames() => Root.Directory(DriversPath).EntryNames();

    public IEnumerable<PciDevice> GetDevices() => Addresses().Select(a => Read(a, DeviceDirectory(a)));

    /// <summary>The function at an address; null when this root has none there.</summary>
    public PciDevice? Find(PciAddress address)
    {
        var directory = DeviceDirectory(address);
        return directory.Exists ? Read(address, directory) : null;
    }

    /// <summary>The function at an address, or PciDeviceNotFound.</summary>
    public PciDevice Get(PciAddress address) => Find(address) ?? throw PciErrors.DeviceNotFound(address.ToString());

    /// <summary>The function's directory under /sys/bus/pci/devices (a link to its place in the device tree).</summary>
    public SysfsDirectory DeviceDirectory(PciAddress address) => Root.Directory(DevicesPath).Child(address.ToString());

    private PciDevice Read(PciAddress address, SysfsDirectory link)
    {
        var device = link.Resolved();
        var config = PciConfigSpace.Read(device.Combine("config"));
        var vendor = device.Hex("vendor");
        var deviceId = device.Hex("device");
        var subVendor = device.Hex("subsystem_vendor");
        var subDevice = device.Hex("subsystem_device");
        var classValue = device.Hex("class");
        var driver = device.LinkName("driver");
        var msi = MsiVectors.Read(device);
        var sysfsIrq = device.Int("irq");
        var headerType = config?.HeaderType;
        var names = _names.Value;
        var masking = IntxMasking.Judge(SysfsText.FormatId(vendor), SysfsText.FormatId(deviceId), config);

        return new PciDevice
        {
            Address = address,
            VendorId = SysfsText.FormatId(vendor),
            DeviceId = SysfsText.FormatId(deviceId),
            SubsystemVendorId = SysfsText.FormatId(subVendor),
            SubsystemId = SysfsText.FormatId(subDevice),
            ClassCode = PciClassCode.Format(classValue),
            ClassName = classValue is int c ? names?.ClassName(c >> 16, (c >> 8) & 0xff, c & 0xff) : null,
            VendorName = names?.VendorName(vendor),
            DeviceName = names?.DeviceName(vendor, deviceId),
            SubsystemName = vendor is int v && deviceId is int d && subVendor is int sv && subDevice is int sd
                ? names?.SubsystemName(v, d, sv, sd) : null,
            NameSource = names?.SourcePath,
            Revision = device.Hex("revision") is int r and <= 0xff ? r.ToString("x2", CultureInfo.InvariantCulture) : null,
            Driver = driver,
            DriverOverride = device.String("driver_override") is { Length: > 0 } o && o != "(null)" ? o : null,
            Irq = LegacyIrq(sysfsIrq, msi),
            SysfsIrq = sysfsIrq,
            InterruptLine = config?.InterruptLine,
            InterruptPin = config?.InterruptPin,
            MsiVectors = msi.Count,
            MsiKind = msi.Kind,
            IommuGroup = SysfsText.ParseInt(device.LinkName("iommu_group")),
            NumaNode = device.Int("numa_node") is int node and >= 0 ? node : null,
            ResetMethods = device.String("reset_method")?.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            FunctionLevelReset = config?.FunctionLevelReset,
            PowerManagementReset = config?.PowerManagementReset,
            D3coldAllowed = device.Int("d3cold_allowed") is int d3cold ? d3cold == 1 : null,
            BootVga = device.Int("boot_vga") is int bootVga ? bootVga == 1 : null,
            HeaderType = headerType,
            IsBridge = headerType is int h ? h is 1 or 2 : (classValue >> 8) is 0x0604 or 0x0607,
            IsVfioBound = VfioGroupViability.IsVfioBound(device, driver),
            IsEnabled = device.Int("enable") is int enable ? enable > 0 : null,
            IsPciExpress = config?.IsPciExpress,
            IntxDisabled = config?.IntxDisabled,
            IntxAsserted = config?.InterruptStatus,
            SupportsIntxMasking = masking.Supported,
            IntxMaskingEvidence = masking.Evidence,
            SysfsPath = Root.ToSystemPath(device.Path),
            Root = Root.Path,
        };
    }

    /// <summary>
    /// sysfs irq is the INTx IRQ unless plain MSI is on: then it is the first MSI vector (MSI-X leaves it alone).
    /// 0 means the function has no INTx IRQ.
    /// </summary>
    private static int? LegacyIrq(int? sysfsIrq, MsiVectors msi) => sysfsIrq switch
    {
        null or <= 0 => null,
        int irq when msi.Kind == PciMsiKind.Msi && msi.Contains(irq) => null,
        int irq => irq,
    };
}
