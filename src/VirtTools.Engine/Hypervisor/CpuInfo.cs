namespace VirtTools.Hypervisor;

/// <summary>The first processor's vendor and flags from /proc/cpuinfo (every CPU of a host has the same).</summary>
public sealed class CpuInfo
{
    private CpuInfo(string? vendor, string? modelName, IReadOnlySet<string> flags)
    {
        Vendor = vendor;
        ModelName = modelName;
        Flags = flags;
    }

    /// <summary>vendor_id ("GenuineIntel", "AuthenticAMD"); null when cpuinfo does not say.</summary>
    public string? Vendor { get; }

    /// <summary>"model name" ("QEMU TCG CPU version 2.5+"); null when cpuinfo does not say (arm64 has none).</summary>
    public string? ModelName { get; }

    public IReadOnlySet<string> Flags { get; }

    public bool Has(string flag) => Flags.Contains(flag);

    /// <summary>"vmx" (Intel VT-x), "svm" (AMD-V) or "none".</summary>
    public string VirtualizationExtension => Has("vmx") ? "vmx" : Has("svm") ? "svm" : "none";

    /// <summary>Parses cpuinfo text; null when there is none (a captured root without /proc).</summary>
    public static CpuInfo? Parse(string? text)
    {
        if (text is null) return null;
        string? vendor = null, modelName = null;
        HashSet<string>? flags = null;
        foreach (var line in text.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) { if (flags is not null) break; continue; } // a blank line ends the first processor
            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (key == "vendor_id" && vendor is null) vendor = value;
            else if (key == "model name" && modelName is null) modelName = value;
            else if (key is "flags" or "features" && flags is null) flags = value.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        }
        return new CpuInfo(vendor, modelName, flags ?? new HashSet<string>(StringComparer.Ordinal));
    }
}
