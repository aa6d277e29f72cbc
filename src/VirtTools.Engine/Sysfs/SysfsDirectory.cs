namespace VirtTools.Sysfs;

/// <summary>
/// A kernel object directory (a device, a driver, a group) and typed reads of its attribute files.
/// Every read returns null when the attribute is absent on this kernel or unreadable, never 0.
/// </summary>
public readonly struct SysfsDirectory
{
    public SysfsDirectory(string path) => Path = path;

    /// <summary>The resolved path of the directory (under the root).</summary>
    public string Path { get; }

    public string Name => System.IO.Path.GetFileName(Path);

    public bool Exists => Directory.Exists(Path);

    public string Combine(string relative) => Path + "/" + relative;

    public SysfsDirectory Child(string relative) => new(Combine(relative));

    public bool Has(string relative)
    {
        var p = Combine(relative);
        return File.Exists(p) || Directory.Exists(p);
    }

    public string? Text(string attribute) => SysfsText.ReadFile(Combine(attribute));

    public string? String(string attribute) => SysfsText.ReadValue(Combine(attribute));

    public int? Int(string attribute) => SysfsText.ParseInt(String(attribute));

    public long? Long(string attribute) => SysfsText.ParseLong(String(attribute));

    public int? Hex(string attribute) => SysfsText.ParseHex(String(attribute));

    /// <summary>A 16-bit hex id attribute as "058f".</summary>
    public string? Id(string attribute) => SysfsText.FormatId(Hex(attribute));

    public bool? Bool(string attribute) => SysfsText.ParseBool(String(attribute));

    /// <summary>The last component of a symlink's target ("driver" → "usb-storage"); null without the link.</summary>
    public string? LinkName(string link)
    {
        var target = LinkTarget(link);
        return target is null ? null : System.IO.Path.GetFileName(target.TrimEnd('/'));
    }

    /// <summary>The raw target of a symlink; null when it is not a link.</summary>
    public string? LinkTarget(string link)
    {
        try { return new FileInfo(Combine(link)).LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>The directory with every symlink resolved (the device's place in /sys/devices).</summary>
    public SysfsDirectory Resolved()
    {
        try
        {
            var info = new DirectoryInfo(Path);
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            return target is null ? this : new SysfsDirectory(System.IO.Path.GetFullPath(target.FullName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return this; }
    }

    /// <summary>Names of the entries below this directory, sorted ordinally; empty when it is missing.</summary>
    public IReadOnlyList<string> EntryNames(string? relative = null)
    {
        var dir = relative is null ? Path : Combine(relative);
        try
        {
            var names = Directory.GetFileSystemEntries(dir).Select(System.IO.Path.GetFileName).OfType<string>().ToList();
            names.Sort(StringComparer.Ordinal);
            return names;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Array.Empty<string>(); }
    }

    public override string ToString() => Path;
}
