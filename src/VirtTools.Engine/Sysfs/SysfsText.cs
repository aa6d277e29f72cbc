using System.Globalization;

namespace VirtTools.Sysfs;

/// <summary>
/// Tolerant readers and parsers of kernel attribute text. Missing files, unreadable files (write-only
/// attributes, EIO from a sleeping device) and garbage all become null: a reader reports what it could see.
/// </summary>
public static class SysfsText
{
    /// <summary>Attribute files are small; anything bigger than this is not an attribute we understand.</summary>
    public const int MaxAttributeBytes = 1 << 20;

    public static string? ReadFile(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            // sysfs files report a length of 4096 whatever they hold, so read until the end, with a ceiling.
            var buffer = new byte[4096];
            int total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (buffer.Length >= MaxAttributeBytes) return null;
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
                int n = stream.Read(buffer, total, buffer.Length - total);
                if (n <= 0) break;
                total += n;
            }
            return System.Text.Encoding.UTF8.GetString(buffer, 0, total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The first line of an attribute, without the trailing newline; null when absent.</summary>
    public static string? ReadValue(string path)
    {
        var text = ReadFile(path);
        if (text is null) return null;
        int end = text.IndexOf('\n');
        return (end >= 0 ? text[..end] : text).Trim();
    }

    public static int? ParseInt(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var s = text.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return int.TryParse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var h) ? h : null;
        return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    public static long? ParseLong(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var s = text.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return long.TryParse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var h) ? h : null;
        return long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    /// <summary>Parses hex with or without "0x" ("046d", "0x8086").</summary>
    public static int? ParseHex(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var s = text.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) s = s[2..];
        return int.TryParse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    /// <summary>A 16-bit id as the 4-digit lowercase hex string the public surface uses ("058f").</summary>
    public static string? FormatId(int? id) => id is int v and >= 0 and <= 0xffff ? v.ToString("x4", CultureInfo.InvariantCulture) : null;

    /// <summary>Normalises user input ("0x046D", "46d") to the 4-digit lowercase form; null if it is not an id.</summary>
    public static string? NormalizeId(string? text) => FormatId(ParseHex(text));

    /// <summary>Y/N, 1/0, yes/no, on/off as the kernel writes booleans.</summary>
    public static bool? ParseBool(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "y" or "1" or "yes" or "on" or "true" or "enabled" => true,
        "n" or "0" or "no" or "off" or "false" or "disabled" => false,
        _ => null,
    };
}
