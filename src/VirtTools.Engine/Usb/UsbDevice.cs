namespace VirtTools.Usb;

/// <summary>
/// A USB device as sysfs shows it. It has two identities: <see cref="BusId"/> follows the physical port and survives a
/// replug; <see cref="BusNumber"/>/<see cref="DeviceNumber"/> (and <see cref="DevicePath"/>) are handed out anew on
/// every enumeration. Attributes this kernel or device does not have are null.
/// </summary>
public sealed class UsbDevice
{
    /// <summary>The port path name ("1-1.2"; "usb1" for a root hub).</summary>
    public required UsbBusId BusId { get; init; }

    public int? BusNumber { get; init; }

    public int? DeviceNumber { get; init; }

    /// <summary>The usbfs node ("/dev/bus/usb/001/021").</summary>
    public string? DevicePath { get; init; }

    /// <summary>The ports from the root hub down ("1-1.2" → 1, 2); empty for a root hub.</summary>
    public int[] PortPath => BusId.Ports;

    /// <summary>The hub this device is plugged into ("1-1"; "usb1" for the root hub); null for a root hub.</summary>
    public UsbBusId? ParentBusId => BusId.Parent;

    /// <summary>idVendor and idProduct ("046d:c52b"); null when sysfs lacks either.</summary>
    public UsbId? UsbId { get; init; }

    /// <summary>idVendor as four lowercase hex digits ("046d").</summary>
    public string? VendorId => UsbId?.VendorId;

    public string? ProductId => UsbId?.ProductId;

    /// <summary>bcdDevice, the device's release number, as four hex digits.</summary>
    public string? DeviceRelease { get; init; }

    /// <summary>Strings the device reports about itself.</summary>
    public string? Manufacturer { get; init; }

    public string? Product { get; init; }

    public string? SerialNumber { get; init; }

    /// <summary>Names from usb.ids; null when no database is installed or the id is not in it.</summary>
    public string? VendorName { get; init; }

    public string? ProductName { get; init; }

    /// <summary>The usb.ids file the names came from (the root's, else this system's); null when there was none.</summary>
    public string? NameSource { get; init; }

    /// <summary>The negotiated signalling rate in megabits per second (1.5, 12, 480, 5000, 10000, 20000).</summary>
    public double? SpeedMbps { get; init; }

    /// <summary>The speed code USB/IP uses for this device.</summary>
    public UsbSpeed Speed { get; init; }

    /// <summary>bcdUSB as the kernel prints it ("2.00", "3.20").</summary>
    public string? UsbVersion { get; init; }

    /// <summary>bDeviceClass as two hex digits ("00": defined per interface, "09": hub).</summary>
    public string? DeviceClass { get; init; }

    public string? DeviceSubClass { get; init; }

    public string? DeviceProtocol { get; init; }

    public string? DeviceClassName { get; init; }

    /// <summary>bConfigurationValue: the active configuration; null while unconfigured.</summary>
    public int? Configuration { get; init; }

    public int? ConfigurationCount { get; init; }

    public int? InterfaceCount { get; init; }

    /// <summary>The interfaces of the active configuration.</summary>
    public UsbInterface[] Interfaces { get; init; } = Array.Empty<UsbInterface>();

    /// <summary>The device-level driver: "usb" normally, "usbip-host" while exported; null when unbound.</summary>
    public string? Driver { get; init; }

    /// <summary>The distinct drivers of the interfaces (what actually serves the device: "usbhid", "usb-storage").</summary>
    public string[] InterfaceDrivers => Interfaces.Select(i => i.Driver).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>Root hubs and external hubs (class 09).</summary>
    public bool IsHub { get; init; }

    /// <summary>How many downstream ports a hub has (sysfs maxchild); null for a device that is not a hub.</summary>
    public int? PortCount { get; init; }

    /// <summary>
    /// The device nodes the kernel made for the device's interfaces, the names admins look for after a plug or an
    /// attach (/dev/ttyUSB0, /dev/ttyACM0, /dev/sda and its partitions, /dev/hidraw0, /dev/input/event5); its own
    /// usbfs node is <see cref="DevicePath"/>. Empty for hubs: the nodes below a hub belong to its devices.
    /// </summary>
    public string[] Nodes { get; init; } = Array.Empty<string>();

    /// <summary>Bound to usbip-host: shared over USB/IP and unusable locally.</summary>
    public bool IsExported => Driver == UsbDeviceDrivers.UsbIpHost;

    /// <summary>usbip-host's usbip_status while exported: Available until a client imports it, then InUse.</summary>
    public UsbIpStatus? UsbIpStatus { get; init; }

    /// <summary>
    /// Whether the hub port the device is plugged into is claimed (USBDEVFS_CLAIM_PORT), as far as the kernel shows it;
    /// sysfs names no port owner, so this is read from what ownership does. True while usbip-host holds the device (its
    /// probe claims the port), and for a device on the generic driver that is authorized and has configurations but
    /// none active: a device plugged into a claimed port is left so (drivers/usb/core/generic.c). Null when the kernel
    /// does not tell: a port claimed after its device was configured leaves the device as it was, and a root hub has
    /// no port. (Writing 0 to bConfigurationValue by hand leaves a device unconfigured too, and reads as true.)
    /// </summary>
    public bool? PortClaimed { get; init; }

    /// <summary>Sits on a vhci_hcd bus: a remote device imported over USB/IP (the vhci root hubs themselves are not).</summary>
    public bool IsImported => VhciController is not null && PortPath.Length > 0;

    /// <summary>The vhci_hcd controller ("vhci_hcd.0") an imported device or a vhci root hub belongs to; null for local devices.</summary>
    public string? VhciController { get; init; }

    /// <summary>The device's own directory under /sys/devices (what usbip puts in the wire record's path).</summary>
    public string? SysfsPath { get; init; }

    /// <summary>The root this was read under.</summary>
    public required string Root { get; init; }

    /// <summary>What a person calls the device: its own strings, else the usb.ids names.</summary>
    public string? Description =>
        Product is not null ? (Manufacturer is not null && !Product.StartsWith(Manufacturer, StringComparison.Ordinal) ? $"{Manufacturer} {Product}" : Product)
        : ProductName is not null ? (VendorName is not null ? $"{VendorName} {ProductName}" : ProductName)
        : VendorName;

    public override string ToString() => BusId.ToString();
}
