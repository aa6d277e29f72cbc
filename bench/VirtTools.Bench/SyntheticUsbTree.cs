using System.Globalization;

namespace VirtTools.Bench;

/// <summary>
/// A synthetic /sys of many USB devices, shaped like the captured Debian 6.1 tree (same attribute files and
/// formats, links relative as the kernel makes them): physical buses under xHCI functions, each with a 4-port root
/// hub, 7-port external hubs two tiers deep and devices behind them (116 devices a bus, the USB limit being 127);
/// vhci_hcd controllers in the mainline layout (status on vhci_hcd.0, status.N for the others, 8 HS + 8 SS
/// ports each) with two imported devices each and their /var/run/vhci_hcd records; every 20th device bound to
/// usbip-host. Note that 10,000 devices is beyond one real kernel (64 buses of 127 devices): it is a stress size.
/// </summary>
public static class SyntheticUsbTree
{
    public const int DevicesPerPhysicalBus = 116;
    public const int VhciPortsPerHub = 8;
    public const int ImportedPerController = 2;

    /// <summary>What was written: the counts a reader of the tree must find.</summary>
    public sealed record Shape(int Devices, int RootHubs, int Hubs, int Interfaces, int VhciControllers, int VhciPorts, int PortsInUse, int Exported);

    public static int ControllersFor(int deviceCount) => Math.Clamp(deviceCount / 100, 1, 128);

    public static Shape Write(string root, int deviceCount)
    {
        var tree = new SyntheticTree(root);
        var counts = new Counts();
        foreach (var driver in new[] { "usb", "hub", "usbhid", "usb-storage", "usbip-host" }) tree.Directory("/sys/bus/usb/drivers/" + driver);
        tree.Directory("/sys/bus/platform/drivers/vhci_hcd");

        int controllers = ControllersFor(deviceCount);
        int imported = Math.Min(deviceCount, controllers * ImportedPerController);
        int physical = deviceCount - imported;
        int physicalBuses = (physical + DevicesPerPhysicalBus - 1) / DevicesPerPhysicalBus;

        for (int bus = 1, left = physical; bus <= physicalBuses; bus++, left -= DevicesPerPhysicalBus)
        {
            var function = string.Create(CultureInfo.InvariantCulture, $"0000:00:{4 + (bus - 1) / 8:x2}.{(bus - 1) % 8}");
            WritePhysicalBus(tree, counts, $"/sys/devices/pci0000:00/{function}", bus, Math.Min(left, DevicesPerPhysicalBus));
        }
        WriteVhci(tree, counts, controllers, imported, firstBus: physicalBuses + 1);
        return new Shape(counts.Devices, counts.RootHubs, counts.Hubs, counts.Interfaces, controllers,
            controllers * 2 * VhciPortsPerHub, imported, counts.Exported);
    }

    private sealed class Counts
    {
        public int Devices, RootHubs, Hubs, Interfaces, Exported;
    }

    private enum Kind { RootHub, Hub, Keyboard, Storage, Exported }

    /// <summary>Root hub (4 ports) → 4 hubs → ports 1-3: hubs, 4-7: devices → 7 devices on each second-tier hub.</summary>
    private static void WritePhysicalBus(SyntheticTree tree, Counts counts, string controller, int bus, int devices)
    {
        var rootHub = $"{controller}/usb{bus}";
        WriteDevice(tree, counts, rootHub, $"usb{bus}", bus, 1, Kind.RootHub, 480, "0", ports: 4);
        int devnum = 2;
        var queue = new Queue<(string Path, string BusId, int Ports, int Tier)>();
        queue.Enqueue((rootHub, $"{bus}-0", 4, 0));
        while (queue.Count > 0 && devnum - 2 < devices)
        {
            var (parentPath, parentBusId, ports, tier) = queue.Dequeue();
            for (int port = 1; port <= ports && devnum - 2 < devices; port++)
            {
                var busId = tier == 0 ? $"{bus}-{port}" : $"{parentBusId}.{port}";
                var path = $"{parentPath}/{busId}";
                bool hub = tier == 0 || (tier == 1 && port <= 3);
                var kind = hub ? Kind.Hub : LeafKind(counts.Devices);
                WriteDevice(tree, counts, path, busId, bus, devnum++, kind, kind == Kind.Storage ? 5000 : 480, busId[(busId.IndexOf('-') + 1)..], ports: hub ? 7 : 0);
                if (hub) queue.Enqueue((path, busId, 7, tier + 1));
            }
        }
    }

    private static Kind LeafKind(int index) => index % 20 == 0 ? Kind.Exported : index % 2 == 0 ? Kind.Keyboard : Kind.Storage;

    private static void WriteVhci(SyntheticTree tree, Counts counts, int controllers, int imported, int firstBus)
    {
        var first = "/sys/devices/platform/vhci_hcd.0";
        tree.Attribute(first + "/nports", (controllers * 2 * VhciPortsPerHub).ToString(CultureInfo.InvariantCulture));
        tree.Attribute(first + "/usbip_debug", "0");
        tree.Text(first + "/attach", "");
        tree.Text(first + "/detach", "");
        for (int c = 0, left = imported; c < controllers; c++)
        {
            var platform = $"/sys/devices/platform/vhci_hcd.{c}";
            tree.Link(platform + "/driver", "/sys/bus/platform/drivers/vhci_hcd");
            tree.Attribute(platform + "/modalias", "platform:vhci_hcd");
            tree.Attribute(platform + "/driver_override", "(null)");
            tree.Attribute(platform + "/uevent", $"DRIVER=vhci_hcd\nMODALIAS=platform:vhci_hcd");
            int hsBus = firstBus + 2 * c, ssBus = hsBus + 1;
            WriteDevice(tree, counts, $"{platform}/usb{hsBus}", $"usb{hsBus}", hsBus, 1, Kind.RootHub, 480, "0", VhciPortsPerHub);
            WriteDevice(tree, counts, $"{platform}/usb{ssBus}", $"usb{ssBus}", ssBus, 1, Kind.RootHub, 5000, "0", VhciPortsPerHub);
            var status = new System.Text.StringBuilder("hub port sta spd dev      sockfd local_busid\n");
            foreach (var (hub, bus, speedCode, mbps) in new[] { ("hs", hsBus, 3, 480), ("ss", ssBus, 5, 5000) })
                for (int i = 0; i < VhciPortsPerHub; i++)
                {
                    int port = c * 2 * VhciPortsPerHub + (hub == "ss" ? VhciPortsPerHub : 0) + i;
                    if (i == 0 && left > 0)
                    {
                        left--;
                        var busId = $"{bus}-1";
                        WriteDevice(tree, counts, $"{platform}/usb{bus}/{busId}", busId, bus, 2, mbps == 480 ? Kind.Keyboard : Kind.Storage, mbps, "1", 0);
                        int remoteBus = 1 + port % 4, remoteDevice = 2 + port % 100;
                        status.Append(string.Create(CultureInfo.InvariantCulture,
                            $"{hub}  {port:0000} 006 {speedCode:000} {(remoteBus << 16) | remoteDevice:x8} {3 + port:000000} {busId}\n"));
                        tree.Attribute($"/var/run/vhci_hcd/port{port}", $"192.0.2.{1 + c % 250} 3240 {remoteBus}-{1 + port % 7}");
                    }
                    else status.Append(string.Create(CultureInfo.InvariantCulture, $"{hub}  {port:0000} 004 000 00000000 000000 0-0\n"));
                }
            tree.Text(c == 0 ? first + "/status" : $"{first}/status.{c}", status.ToString());
        }
    }

    private static readonly (string Vendor, string Product, string Class, string Manufacturer, string Name)[] Identities =
    {
        ("1d6b", "0002", "09", "Linux 6.1.0-27-amd64 xhci-hcd", "xHCI Host Controller"),
        ("2109", "2817", "09", "VIA Labs, Inc.", "USB2.0 Hub"),
        ("046d", "c31c", "00", "Logitech", "USB Keyboard"),
        ("0781", "5581", "00", "SanDisk", "Ultra"),
        ("0781", "5581", "00", "SanDisk", "Ultra"),
    };

    private static readonly (string Class, string SubClass, string Protocol, string Driver, int Endpoints)[][] InterfacesOf =
    {
        new[] { ("09", "00", "00", "hub", 1) },
        new[] { ("09", "00", "00", "hub", 1) },
        new[] { ("03", "01", "01", "usbhid", 1), ("03", "00", "00", "usbhid", 1) },
        new[] { ("08", "06", "50", "usb-storage", 2) },
        new[] { ("08", "06", "50", "", 2) },
    };

    private static void WriteDevice(SyntheticTree tree, Counts counts, string path, string busId, int bus, int devnum, Kind kind,
        int speedMbps, string devpath, int ports)
    {
        var (vendor, product, deviceClass, manufacturer, name) = Identities[(int)kind];
        var interfaces = InterfacesOf[(int)kind];
        bool rootHub = kind == Kind.RootHub;
        string minor = ((bus - 1) * 128 + devnum - 1).ToString(CultureInfo.InvariantCulture);
        tree.Attributes(path,
            ("authorized", "1"), ("avoid_reset_quirk", "0"), ("bConfigurationValue", "1"), ("bDeviceClass", deviceClass),
            ("bDeviceProtocol", rootHub ? "03" : "00"), ("bDeviceSubClass", "00"), ("bMaxPacketSize0", rootHub ? "9" : "64"),
            ("bMaxPower", rootHub ? "0mA" : "100mA"), ("bNumConfigurations", "1"), ("bNumInterfaces", " " + interfaces.Length),
            ("bcdDevice", rootHub ? "0601" : "0100"), ("bmAttributes", "e0"), ("busnum", bus.ToString(CultureInfo.InvariantCulture)),
            ("configuration", ""), ("dev", "189:" + minor), ("devnum", devnum.ToString(CultureInfo.InvariantCulture)), ("devpath", devpath),
            ("idProduct", product), ("idVendor", vendor), ("ltm_capable", "no"), ("manufacturer", manufacturer),
            ("maxchild", ports.ToString(CultureInfo.InvariantCulture)), ("product", name), ("quirks", "0x0"), ("removable", rootHub ? "unknown" : "removable"),
            ("rx_lanes", "1"), ("serial", rootHub ? "0000:00:04.0" : $"{vendor}{product}{bus:000}{devnum:000}"),
            ("speed", speedMbps.ToString(CultureInfo.InvariantCulture)), ("tx_lanes", "1"), ("urbnum", "42"),
            ("version", speedMbps >= 5000 ? " 3.00" : " 2.00"),
            ("uevent", $"MAJOR=189\nMINOR={minor}\nDEVNAME=bus/usb/{bus:000}/{devnum:000}\nDEVTYPE=usb_device\nDRIVER={(kind == Kind.Exported ? "usbip-host" : "usb")}\n" +
                $"PRODUCT={vendor.TrimStart('0')}/{product.TrimStart('0')}/100\nTYPE={deviceClass}/0/0\nBUSNUM={bus:000}\nDEVNUM={devnum:000}"));
        if (rootHub) tree.Attributes(path, ("authorized_default", "1"), ("interface_authorized_default", "1"));
        tree.Text(path + "/remove", "");
        tree.Bytes(path + "/descriptors", Descriptors(vendor, product, interfaces.Length));
        tree.Attributes(path + "/power", ("control", "auto"), ("runtime_status", "active"), ("autosuspend_delay_ms", "2000"));
        tree.Attributes(path + "/ep_00", ("bEndpointAddress", "00"), ("bmAttributes", "00"), ("type", "Control"), ("direction", "both"));
        tree.Link(path + "/subsystem", "/sys/bus/usb");
        var deviceDriver = kind == Kind.Exported ? "usbip-host" : "usb";
        tree.Link(path + "/driver", "/sys/bus/usb/drivers/" + deviceDriver);
        tree.Link($"/sys/bus/usb/drivers/{deviceDriver}/{busId}", path);
        if (kind == Kind.Exported)
        {
            tree.Attributes(path, ("usbip_status", "1"), ("usbip_debug", "0"));
            tree.Text(path + "/usbip_sockfd", "");
            counts.Exported++;
        }
        tree.Link("/sys/bus/usb/devices/" + busId, path);

        var interfacePrefix = rootHub ? $"{bus}-0" : busId;
        for (int i = 0; i < interfaces.Length; i++)
        {
            var (cls, sub, protocol, driver, endpoints) = interfaces[i];
            var interfaceName = $"{interfacePrefix}:1.{i}";
            var interfacePath = $"{path}/{interfaceName}";
            tree.Attributes(interfacePath,
                ("authorized", "1"), ("bAlternateSetting", " 0"), ("bInterfaceClass", cls), ("bInterfaceNumber", $"{i:00}"),
                ("bInterfaceProtocol", protocol), ("bInterfaceSubClass", sub), ("bNumEndpoints", $"{endpoints:00}"),
                ("modalias", $"usb:v{vendor.ToUpperInvariant()}p{product.ToUpperInvariant()}d0100dc{deviceClass}dsc00dp00ic{cls}isc{sub}ip{protocol}in{i:00}"),
                ("supports_autosuspend", "1"),
                ("uevent", $"DEVTYPE=usb_interface\n{(driver.Length > 0 ? "DRIVER=" + driver + "\n" : "")}PRODUCT={vendor.TrimStart('0')}/{product.TrimStart('0')}/100\nINTERFACE={cls}/{sub}/{protocol}"));
            tree.Attributes(interfacePath + "/ep_81", ("bEndpointAddress", "81"), ("bmAttributes", "03"), ("type", "Interrupt"), ("direction", "in"));
            tree.Link(interfacePath + "/subsystem", "/sys/bus/usb");
            if (driver.Length > 0)
            {
                tree.Link(interfacePath + "/driver", "/sys/bus/usb/drivers/" + driver);
                tree.Link($"/sys/bus/usb/drivers/{driver}/{interfaceName}", interfacePath);
            }
            for (int port = 1; cls == "09" && port <= ports; port++)
                tree.Attributes($"{interfacePath}/usb{bus}-port{port}", ("connect_type", "hotplug"), ("disable", "0"), ("over_current_count", "0"), ("quirks", "00000000"));
            tree.Link("/sys/bus/usb/devices/" + interfaceName, interfacePath);
            counts.Interfaces++;
        }

        if (rootHub) counts.RootHubs++;
        else counts.Devices++;
        if (kind == Kind.Hub) counts.Hubs++;
    }

    /// <summary>The raw descriptors file: an 18-byte device descriptor, then a configuration and its interfaces.</summary>
    private static byte[] Descriptors(string vendor, string product, int interfaces)
    {
        var bytes = new List<byte> { 18, 1, 0x00, 0x02, 0, 0, 0, 64 };
        int v = int.Parse(vendor, NumberStyles.HexNumber, CultureInfo.InvariantCulture), p = int.Parse(product, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        bytes.AddRange(new byte[] { (byte)v, (byte)(v >> 8), (byte)p, (byte)(p >> 8), 0x00, 0x01, 1, 2, 3, 1 });
        bytes.AddRange(new byte[] { 9, 2, (byte)(9 + 9 * interfaces), 0, (byte)interfaces, 1, 0, 0xa0, 50 });
        for (int i = 0; i < interfaces; i++) bytes.AddRange(new byte[] { 9, 4, (byte)i, 0, 1, 3, 1, 1, 0 });
        return bytes.ToArray();
    }
}
