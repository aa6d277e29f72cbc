using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// What <c>usbip attach</c> remembers about an attached port: the file /var/run/vhci_hcd/port&lt;N&gt; holding
/// "&lt;host&gt; &lt;tcp port&gt; &lt;bus id&gt;\n". <c>usbip port</c> reads it and <c>usbip detach</c> removes it, so
/// reading and writing the same files lets both tools see each other's attachments.
/// </summary>
public sealed record VhciPortRecord(string Host, int? TcpPort, string BusId)
{
    /// <summary>usbip's VHCI_STATE_PATH first, then /run (the same place where /var/run links to /run).</summary>
    public static IReadOnlyList<string> StateDirectories { get; } = new[] { "/var/run/vhci_hcd", "/run/vhci_hcd" };

    /// <summary>"port15".</summary>
    public static string FileName(int port) => "port" + port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The record for a port from the first state directory that has one; null when none has.</summary>
    public static VhciPortRecord? Read(SystemRoot root, int port)
    {
        foreach (var directory in StateDirectories)
            if (Parse(root.ReadText(directory + "/" + FileName(port))) is { } record) return record;
        return null;
    }

    /// <summary>The record in a file's text; null when it is not three fields.</summary>
    public static VhciPortRecord? Parse(string? text)
    {
        var fields = (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 3) return null;
        int? tcpPort = int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 65535 ? p : null;
        return new VhciPortRecord(fields[0], tcpPort, fields[2]);
    }

    /// <summary>The file content exactly as <c>usbip attach</c> writes it.</summary>
    public string ToFileText() => string.Create(CultureInfo.InvariantCulture, $"{Host} {TcpPort} {BusId}\n");
}
