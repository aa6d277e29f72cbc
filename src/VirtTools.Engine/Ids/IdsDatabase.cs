using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using VirtTools.Sysfs;

namespace VirtTools.Ids;

/// <summary>
/// Names from usb.ids or pci.ids (the same format: vendor lines, tab-indented devices, then "C" class
/// sections). Loaded once per file and kept while the file does not change.
/// </summary>
/// <remarks>
/// pci.ids is ~1.3 MB and a listing names a handful of vendors, so a load only indexes where each vendor's block
/// and the class sections start (one pass over the bytes, nothing allocated per line); a block is parsed the first
/// time one of its names is asked for. Parsing the whole file was most of a first Get-PciDevice (issue 12).
/// </remarks>
public sealed class IdsDatabase
{
    private static readonly string[] UsbLocations =
        { "/usr/share/misc/usb.ids", "/usr/share/hwdata/usb.ids", "/usr/share/usb.ids", "/var/lib/usbutils/usb.ids" };
    private static readonly string[] PciLocations =
        { "/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids" };

    private static readonly ConcurrentDictionary<string, (DateTime Stamp, long Length, IdsDatabase Database)> Cache = new();

    private readonly byte[] _text;
    // Each vendor's block (its line, its devices and their subsystems), as a range of _text; a vendor listed twice
    // (neither file does) keeps its first listing.
    private readonly Dictionary<int, Range> _vendorBlocks = new();
    private readonly List<Range> _classBlocks = new();

    // What has been parsed so far; guarded by _gate, as one database serves every runspace of the process.
    private readonly object _gate = new();
    private readonly HashSet<int> _parsedVendors = new();
    private bool _parsedClasses;
    private readonly Dictionary<int, string> _vendors = new();
    private readonly Dictionary<(int Vendor, int Device), string> _devices = new();
    private readonly Dictionary<(int Vendor, int Device, int SubVendor, int SubDevice), string> _subsystems = new();
    private readonly Dictionary<(int Class, int Sub, int ProgIf), string> _classes = new();

    private IdsDatabase(byte[] text, string path)
    {
        _text = text;
        SourcePath = path;
        IndexBlocks();
    }

    /// <summary>The file the names came from.</summary>
    public string SourcePath { get; }

    /// <summary>usb.ids under the root, else this machine's; null when neither has one.</summary>
    public static IdsDatabase? ForUsb(SystemRoot root) => ForUsb(root, SystemRoot.Live);

    /// <summary>pci.ids under the root, else this machine's; null when neither has one.</summary>
    public static IdsDatabase? ForPci(SystemRoot root) => ForPci(root, SystemRoot.Live);

    /// <summary>usb.ids under the root, else the system's (see <see cref="ForPci(SystemRoot, SystemRoot)"/>); null when neither has one.</summary>
    public static IdsDatabase? ForUsb(SystemRoot root, SystemRoot system) => Find(root, UsbLocations) ?? FromSystem(root, system, UsbLocations);

    /// <summary>
    /// pci.ids under the root, else the system's (the live root, for a captured tree): a captured tree seldom carries
    /// /usr/share, and ids name hardware, not the host it was captured on, so the system's copy names it as well.
    /// Null when neither has one.
    /// </summary>
    public static IdsDatabase? ForPci(SystemRoot root, SystemRoot system) => Find(root, PciLocations) ?? FromSystem(root, system, PciLocations);

    /// <summary>The warning for a listing without names: which file is missing and the package that brings it.</summary>
    public static string MissingWarning(string file, SystemRoot root) =>
        $"Names are empty: there is no {file} under {(root.IsLive ? "/usr/share/misc or /usr/share/hwdata" : $"'{root.Path}' or on this system")}. Install it (Debian: apt install {file}; Fedora: hwdata) for vendor, device and class names.";

    private static IdsDatabase? FromSystem(SystemRoot root, SystemRoot system, string[] locations) =>
        root.Path == system.Path ? null : Find(system, locations);

    private static IdsDatabase? Find(SystemRoot root, string[] locations)
    {
        foreach (var location in locations)
        {
            var path = root.Resolve(location);
            FileInfo file;
            try
            {
                file = new FileInfo(path);
                if (!file.Exists) continue;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            if (Cache.TryGetValue(path, out var cached) && cached.Stamp == file.LastWriteTimeUtc && cached.Length == file.Length)
                return cached.Database;
            var database = Load(path);
            if (database is null) continue;
            Cache[path] = (file.LastWriteTimeUtc, file.Length, database);
            return database;
        }
        return null;
    }

    /// <summary>Reads an ids file; null when it cannot be read.</summary>
    public static IdsDatabase? Load(string path)
    {
        try
        {
            return Parse(File.ReadAllBytes(path), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>An ids file's text, in UTF-8 as the files are written.</summary>
    public static IdsDatabase Parse(byte[] text, string sourcePath) => new(text, sourcePath);

    /// <summary>
    /// Every top-level line that is not a comment ends the block before it: the vendor lines ("8086  Intel
    /// Corporation") and the class lines ("C 02  Network controller") start the blocks kept, any other ("L", "HID"...
    /// in usb.ids) starts a section nobody asks for.
    /// </summary>
    // No AggressiveOptimization here or in ParseBlock, though each runs over thousands of lines once per process: the
    // module ships precompiled (ReadyToRun, optimized), and that attribute makes the runtime skip precompiled code and
    // JIT-compile the method at start-up instead.
    private void IndexBlocks()
    {
        var text = _text.AsSpan();
        int position = text.StartsWith("\uFEFF"u8) ? 3 : 0;
        int blockStart = -1, vendor = -1;
        var isClass = false;
        while (position < text.Length)
        {
            int length = text[position..].IndexOf((byte)'\n');
            int next = length < 0 ? text.Length : position + length + 1;
            byte first = text[position];
            if (first is not ((byte)'\t' or (byte)'#' or (byte)'\n' or (byte)'\r'))
            {
                CloseBlock(blockStart, position, vendor, isClass);
                blockStart = position;
                isClass = text[position..].StartsWith("C "u8);
                vendor = isClass ? -1 : VendorId(text[position..next]);
            }
            position = next;
        }
        CloseBlock(blockStart, text.Length, vendor, isClass);
    }

    private void CloseBlock(int start, int end, int vendor, bool isClass)
    {
        if (start < 0) return;
        if (isClass) _classBlocks.Add(start..end);
        else if (vendor >= 0) _vendorBlocks.TryAdd(vendor, start..end);
    }

    // Four hex digits and a space start a vendor line; whether a name follows is the parser's to judge. Read by hand:
    // int.TryParse over bytes is a generic instantiation the runtime has no precompiled code for, and JIT-compiling
    // it cost a first Get-PciDevice in pwsh more than the lazy parse saved.
    private static int VendorId(ReadOnlySpan<byte> line)
    {
        if (line.Length <= 5 || line[4] != (byte)' ') return -1;
        int id = 0;
        foreach (var c in line[..4])
        {
            int digit = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
                _ => -1,
            };
            if (digit < 0) return -1;
            id = id * 16 + digit;
        }
        return id;
    }

    private void ParseVendor(int vendor)
    {
        if (!_parsedVendors.Add(vendor) || !_vendorBlocks.TryGetValue(vendor, out var block)) return;
        ParseBlock(block);
    }

    private void ParseClasses()
    {
        if (_parsedClasses) return;
        _parsedClasses = true;
        foreach (var block in _classBlocks) ParseBlock(block);
    }

    /// <summary>One block: its top-level line, then the tab-indented lines under it.</summary>
    private void ParseBlock(Range block)
    {
        using var reader = new StringReader(Encoding.UTF8.GetString(_text.AsSpan(block)));
        // Where we are: in a vendor, in a class, or in a section we do not use.
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
                    _classes[(cls, -1, -1)] = className;
                }
                else if (TryHex(body, 4, out vendor, out var vendorName))
                {
                    section = 'V'; device = -1;
                    _vendors[vendor] = vendorName;
                }
                else section = '-';
                continue;
            }
            if (section == 'V' && vendor >= 0)
            {
                if (depth == 1 && TryHex(body, 4, out device, out var deviceName))
                    _devices[(vendor, device)] = deviceName;
                else if (depth == 2 && device >= 0 && body.Length > 10 && body[4] == ' '
                         && TryHex(body, 4, out var subVendor, out _) && TryHex(body[5..], 4, out var subDevice, out var subsystemName))
                    _subsystems[(vendor, device, subVendor, subDevice)] = subsystemName;
            }
            else if (section == 'C' && cls >= 0)
            {
                if (depth == 1 && TryHex(body, 2, out sub, out var subName))
                    _classes[(cls, sub, -1)] = subName;
                else if (depth == 2 && sub >= 0 && TryHex(body, 2, out var progIf, out var progIfName))
                    _classes[(cls, sub, progIf)] = progIfName;
            }
        }
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

    public string? VendorName(int? vendor)
    {
        if (vendor is not int v) return null;
        lock (_gate)
        {
            ParseVendor(v);
            return _vendors.TryGetValue(v, out var n) ? n : null;
        }
    }

    public string? DeviceName(int? vendor, int? device)
    {
        if (vendor is not int v || device is not int d) return null;
        lock (_gate)
        {
            ParseVendor(v);
            return _devices.TryGetValue((v, d), out var n) ? n : null;
        }
    }

    public string? SubsystemName(int vendor, int device, int subVendor, int subDevice)
    {
        lock (_gate)
        {
            ParseVendor(vendor);
            return _subsystems.TryGetValue((vendor, device, subVendor, subDevice), out var n) ? n : null;
        }
    }

    /// <summary>
    /// Every name the class code is known by, most specific first: "xHCI", "USB controller", "Serial bus controller".
    /// </summary>
    public IReadOnlyList<string> ClassNames(int cls, int sub, int progIf)
    {
        lock (_gate)
        {
            ParseClasses();
            var names = new List<string>(3);
            foreach (var key in new[] { (cls, sub, progIf), (cls, sub, -1), (cls, -1, -1) })
                if (_classes.TryGetValue(key, out var name)) names.Add(name);
            return names;
        }
    }

    /// <summary>Whether a class, subclass or programming interface has this name (case-insensitive).</summary>
    public bool HasClassNamed(string name)
    {
        lock (_gate)
        {
            ParseClasses();
            return _classes.Values.Any(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>The most specific class name known: programming interface, then subclass, then class.</summary>
    public string? ClassName(int? cls, int? sub = null, int? progIf = null)
    {
        if (cls is not int c) return null;
        lock (_gate)
        {
            ParseClasses();
            if (sub is int s)
            {
                if (progIf is int p && _classes.TryGetValue((c, s, p), out var pn)) return pn;
                if (_classes.TryGetValue((c, s, -1), out var sn)) return sn;
            }
            return _classes.TryGetValue((c, -1, -1), out var cn) ? cn : null;
        }
    }
}
