namespace VirtTools.Bench.Enumeration;

/// <summary>
/// The floors: exactly the directories, links and files the engine's readers touch for one listing
/// (UsbDeviceReader, VhciReader, PciDeviceReader as merged), read once with <see cref="FloorReader"/>.
/// Each returns the number of items found so it can be checked against the cmdlet's output count.
/// </summary>
public static class Floors
{
    public static readonly string[] UsbDeviceAttributes =
    {
        "idVendor", "idProduct", "bDeviceClass", "busnum", "devnum", "speed", "bcdDevice", "manufacturer", "product", "serial",
        "version", "bDeviceSubClass", "bDeviceProtocol", "bConfigurationValue", "bNumConfigurations", "bNumInterfaces",
    };

    public static readonly string[] UsbInterfaceAttributes =
    {
        "bInterfaceClass", "bInterfaceNumber", "bAlternateSetting", "bInterfaceSubClass", "bInterfaceProtocol", "bNumEndpoints", "interface",
    };

    public static readonly string[] PciAttributes =
    {
        "config", "vendor", "device", "subsystem_vendor", "subsystem_device", "class", "irq", "revision", "driver_override",
        "numa_node", "reset_method", "enable",
    };

    /// <summary>How many items a floor finds (also a warm-up of the page cache).</summary>
    public static int Count(Func<string, FloorReader, int> floor, string root) => floor(root, new FloorReader());

    public static int UsbDevices(string root, FloorReader reader)
    {
        int devices = 0;
        var bus = root + "/sys/bus/usb/devices";
        foreach (var link in FloorReader.Entries(bus))
        {
            if (Path.GetFileName(link).Contains(':', StringComparison.Ordinal)) continue;
            var device = Path.GetFullPath(FloorReader.Link(link)!, bus);
            foreach (var attribute in UsbDeviceAttributes) reader.Read(device + "/" + attribute);
            if (Path.GetFileName(FloorReader.Link(device + "/driver")) == "usbip-host") reader.Read(device + "/usbip_status");
            foreach (var entry in FloorReader.Entries(device))
            {
                if (!Path.GetFileName(entry).Contains(':', StringComparison.Ordinal)) continue;
                foreach (var attribute in UsbInterfaceAttributes) reader.Read(entry + "/" + attribute);
                FloorReader.Link(entry + "/driver");
            }
            devices++;
        }
        return devices;
    }

    public static int UsbIpPorts(string root, FloorReader reader)
    {
        int ports = 0;
        var platform = root + "/sys/devices/platform";
        var controllers = FloorReader.Entries(platform).Count(e => Path.GetFileName(e).StartsWith("vhci_hcd.", StringComparison.Ordinal));
        File.Exists(platform + "/vhci_hcd.0/status.1");
        for (int c = 0; c < controllers; c++)
        {
            var status = reader.ReadSpan(c == 0 ? platform + "/vhci_hcd.0/status" : $"{platform}/vhci_hcd.0/status.{c}");
            // Which ports are in use decides which records to read: "sta" 006 is the third column.
            var inUse = new List<string>();
            foreach (var line in System.Text.Encoding.ASCII.GetString(status).Split('\n').Skip(1))
            {
                if (line.Length < 14) continue;
                ports++;
                if (line.AsSpan(9, 3).SequenceEqual("006")) inUse.Add(int.Parse(line.AsSpan(4, 4), System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            foreach (var port in inUse) reader.Read(root + "/var/run/vhci_hcd/port" + port);
        }
        return ports;
    }

    public static int PciDevices(string root, FloorReader reader)
    {
        int functions = 0;
        var bus = root + "/sys/bus/pci/devices";
        foreach (var link in FloorReader.Entries(bus))
        {
            var device = Path.GetFullPath(FloorReader.Link(link)!, bus);
            foreach (var attribute in PciAttributes) reader.Read(device + "/" + attribute);
            FloorReader.Link(device + "/driver");
            FloorReader.Link(device + "/iommu_group");
            foreach (var vector in FloorReader.Entries(device + "/msi_irqs")) reader.Read(vector);
            Directory.Exists(device + "/vfio-dev");
            functions++;
        }
        return functions;
    }
}
