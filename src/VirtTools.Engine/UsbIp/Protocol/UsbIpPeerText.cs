using System.Text;

namespace VirtTools.UsbIp.Protocol;

/// <summary>
/// Text a peer sent, as it may be shown: printable ASCII as it is, every other character as \xNN, and at most
/// <see cref="MaxShown"/> characters, so a hostile string can neither forge a log line or terminal output nor flood it.
/// </summary>
public static class UsbIpPeerText
{
    public const int MaxShown = 64;

    public static bool IsPrintableAscii(string text)
    {
        foreach (var c in text)
            if (c is < ' ' or > '~') return false;
        return true;
    }

    /// <summary>The text quoted for a message: "1-1", "\xff\xff...".</summary>
    public static string Quote(string text) => "\"" + Escape(text, MaxShown) + "\"";

    /// <summary>
    /// The text as it may be shown, unquoted, cut after <paramref name="max"/> characters. Wire strings are read one
    /// byte a character (Latin-1), so \xNN is the byte the peer sent.
    /// </summary>
    public static string Escape(string text, int max)
    {
        var shown = new StringBuilder();
        foreach (var c in text.Length > max ? text[..max] : text)
        {
            if (c is >= ' ' and <= '~' and not '"' and not '\\') shown.Append(c);
            else shown.Append(@"\x").Append(((int)c).ToString(c > 0xff ? "x4" : "x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        if (text.Length > max) shown.Append("...");
        return shown.ToString();
    }
}
