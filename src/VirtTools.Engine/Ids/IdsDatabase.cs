using System.Collections.Concurrent;
using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.Ids;

/// <summary>
/// Names from usb.ids or pci.ids (the same format: vendor lines, tab-indented devices, then "C" class
/// sections). Loaded once per file and kept while the file does not change.
/// </summary>
public sealed class IdsDatabase
{
    private static readonly string[] UsbLocations =
        { "/usr/share/misc/usb.ids", "/usr/share/hwdata/usb.ids", "/usr/share/usb.ids", "/var/lib/usbutils/usb.ids" };
    private static readonly string[] PciLocations =
        { "/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids" };

    private static readonly ConcurrentDictionary<string, (DateTime Stamp, IdsDatabase Database)> Cache = new();

    private readonly Dictionary<int, string> _vendors = new();
    private readonly Dictionary<(int Vendor, int Device), string> _devices = new();
    private readonly Dictionary<(int Vendor, int Device, int SubVendor, int SubDevice), string> _subsystems = new();
    private readonly Dictionary<(int Class, int Sub, int ProgIf), string> _classes = new();

    private IdsDatabase(string path) => SourcePath = path;

    /// <summary>The file the names came from.</summary>
    public string SourcePath { get; }

    /// <summary>usb.ids under the root, or null when none is installed.</summary>
    public static IdsDatabase? ForUsb(SystemRoot root) => Find(root, UsbLocations);

    /// <summary>pci.ids under the root, or null when none is installed.</summary>
    public static IdsDatabase? ForPci(SystemRoot root) => Find(root, PciLocations);

    private static IdsDatabase? Find(SystemRoot root, string[] locations)
    {
        foreach (var location in locations)
        {
            var path = root.Resolve(location);
            DateTime stamp;
            try
            {
                if (!File.Exists(path)) continue;
                stamp = File.GetLastWriteTimeUtc(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            if (Cache.TryGetValue(path, out var cached) && cached.Stamp == stamp) return cached.Database;
            var database = Load(path);
            if (database is null) continue;
            Cache[path] = (stamp, database);
            return database;
        }
        return null;
    }

    /// <summary>Parses an ids file; null when it cannot be read.</summary>
    public static IdsDatabase? Load(string path)
    {
        try
        {
            using var reader = new StreamReader(path, System.Text.Encoding.UTF8);
            return Parse(reader, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    public static IdsDatabase Parse(TextReader reader, string sourcePath)
    {
        var db = new IdsDatabase(sourcePath);
        // Where we are: in the vendor list, in the class list, or in a section we do not use.
        var section = 'V';
        int vendor = -1, device = -1, cls = -1, sub = -1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int depth = 0;
            while (depth < line.Length && line[depth] == '\t') depth++;
            var body = line.AsSpan(depth);
            if (depth == 0)
            {
                if (body.StartsWith("C ") && TryHex(body[2..], 2, out cls, out var className))
                {
                    section = 'C'; sub = -1;
                    db._classes[(cls, -1, -1)] = className;
                }
                else if (TryHex(body, 4, out vendor, out var vendorName))
                {
                    section = 'V'; device = -1;
                    db._vendors[vendor] = vendorName;
                }
                else section = '-';
                continue;
            }
            if (section == 'V' && vendor >= 0)
            {
                if (depth == 1 && TryHex(body, 4, out device, out var deviceName))
                    db._devices[(vendor, device)] = deviceName;
                else if (depth == 2 && device >= 0 && body.Length > 10 && body[4] == ' '
                         && TryHex(body, 4, out var subVendor, out _) && TryHex(body[5..], 4, out var subDevice, out var subsystemName))
                    db._subsystems[(vendor, device, subVendor, subDevice)] = subsystemName;
            }
            else if (section == 'C' && cls >= 0)
            {
                if (depth == 1 && TryHex(body, 2, out sub, out var subName))
                    db._classes[(cls, sub, -1)] = subName;
                else if (depth == 2 && sub >= 0 && TryHex(body, 2, out var progIf, out var progIfName))
                    db._classes[(cls, sub, progIf)] = progIfName;
            }
        }
        return db;
    }

    // "8086  Intel Corporation": digits, at least one space, the name.
    private static bool TryHex(ReadOnlySpan<char> text, int digits, out int value, out string name)
    {
        value = -1; name = "";
        if (text.Length < digits + 2 || text[digits] != ' ') return false;
        if (!int.TryParse(text[..digits], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)) { value = -1; return false; }
        name = text[(digits + 1)..].Trim().ToString();
        return name.Length > 0;
    }

    public string? VendorName(int? vendor) => vendor is int v && _vendors.TryGetValue(v, out var n) ? n : null;

    public string? DeviceName(int? vendor, int? device) =>
        vendor is int v && device is int d && _devices.TryGetValue((v, d), out var n) ? n : null;

    public string? SubsystemName(int vendor, int device, int subVendor, int subDevice) =>
        _subsystems.TryGetValue((vendor, device, subVendor, subDevice), out var n) ? n : null;

    /// <summary>The most specific class name known: programming interface, then subclass, then class.</summary>
    public string? ClassName(int? cls, int? sub = null, int? progIf = null)
    {
        if (cls is not int c) return null;
        if (sub is int s)
        {
            if (progIf is int p && _classes.TryGetValue((c, s, p), out var pn)) return pn;
            if (_classes.TryGetValue((c, s, -1), out var sn)) return sn;
        }
        return _classes.TryGetValue((c, -1, -1), out var cn) ? cn : null;
    }
}
