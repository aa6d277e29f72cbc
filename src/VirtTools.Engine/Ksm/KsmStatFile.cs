namespace VirtTools.Ksm;

/// <summary>
/// Parses /proc/&lt;pid&gt;/ksm_stat. Older lines are "ksm_rmap_items 12", the newest kernels add
/// "ksm_merge_any: yes"; both forms are read. Lines that are neither are skipped.
/// </summary>
public static class KsmStatFile
{
    public static IReadOnlyDictionary<string, string> Parse(string? text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (text is null) return values;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            int split = line.IndexOfAny(new[] { ':', ' ', '\t' });
            if (split <= 0) continue;
            var value = line[(split + 1)..].Trim().TrimStart(':').Trim();
            if (value.Length > 0) values[line[..split]] = value;
        }
        return values;
    }
}
