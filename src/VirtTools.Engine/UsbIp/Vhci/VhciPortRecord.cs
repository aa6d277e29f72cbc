using System.Globalization;
using VirtTools.State;
using VirtTools.Sysfs;

namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// What <c>usbip attach</c> remembers about an attached port: the file /var/run/vhci_hcd/port&lt;N&gt; holding
/// "&lt;host&gt; &lt;tcp port&gt; &lt;bus id&gt;\n". <c>usbip port</c> reads it and <c>usbip detach</c> removes it, so
/// reading and writing the same files lets both tools see each other's attachments.
/// </summary>
public sealed record VhciPortRecord(string Host, int? TcpPort, string BusId)
{
    /// <summary>Where records are written: /run, which /var/run (usbip's VHCI_STATE_PATH) links to on every current distribution.</summary>
    public const string WriteDirectory = "/run/vhci_hcd";

    /// <summary>usbip's VHCI_STATE_PATH first, then /run (the same place where /var/run links to /run).</summary>
    public static IReadOnlyList<string> StateDirectories { get; } = new[] { "/var/run/vhci_hcd", WriteDirectory };

    /// <summary>"port15".</summary>
    public static string FileName(int port) => "port" + port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The record in the first state directory that has a file of that name; null when none has.</summary>
    public static VhciPortRecord? Read(SystemRoot root, string fileName)
    {
        foreach (var directory in StateDirectories)
            if (Parse(root.ReadText(directory + "/" + fileName)) is { } record) return record;
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

    /// <summary>
    /// Writes the record as <c>usbip attach</c> does, the directory and the file with mode 0700 (S_IRWXU), but safely:
    /// inside the root, through a new file renamed over the old, never through a planted symlink. Throws IOException,
    /// UnauthorizedAccessException or a VirtToolsException (a symlink, a path out of the root) when that fails.
    /// </summary>
    public void Write(SystemRoot root, string fileName)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("vhci_hcd records exist on Linux only.");
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        var directory = root.ResolveForWrite(WriteDirectory);
        if (!Directory.Exists(directory)) Directory.CreateDirectory(directory, OwnerOnly);
        AtomicFile.WriteText(directory + "/" + fileName, ToFileText(), OwnerOnly);
    }

    /// <summary>Removes the record from every state directory, as <c>usbip detach</c> does; a missing file is no error.</summary>
    public static void Delete(SystemRoot root, string fileName)
    {
        foreach (var directory in StateDirectories)
            AtomicFile.Delete(root.ResolveForWrite(directory + "/" + fileName));
    }
}
