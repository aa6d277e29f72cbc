using System.Globalization;
using VirtTools.State;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Containers;

namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// What <c>usbip attach</c> remembers about an attached port: the file /var/run/vhci_hcd/port&lt;N&gt; holding
/// "&lt;host&gt; &lt;tcp port&gt; &lt;bus id&gt;\n". <c>usbip port</c> reads it and <c>usbip detach</c> removes it, so
/// reading and writing the same files lets both tools see each other's attachments. A device given to a container
/// adds lines after the first ("container NAME PID", with " dedicated" when it was placed on a controller of its own,
/// then "node PATH TYPE MAJOR MINOR" per node): usbip reads only
/// the first line (fgets), so its tools still see the attachment as theirs.
/// </summary>
public sealed record VhciPortRecord(string Host, int? TcpPort, UsbBusId BusId, ContainerGrant? Container = null)
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

    /// <summary>
    /// The record in a file's text; null when its first line is not three fields ending in a bus id, or when the container lines after
    /// it are not a valid name, process id and nodes (a record that names a container must say all of it right).
    /// </summary>
    public static VhciPortRecord? Parse(string? text)
    {
        var lines = (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var fields = lines.Length == 0 ? Array.Empty<string>() : Fields(lines[0]);
        if (fields.Length != 3 || !UsbBusId.TryParse(fields[2], out var busId)) return null;
        int? tcpPort = int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 65535 ? p : null;
        var record = new VhciPortRecord(fields[0], tcpPort, busId);
        if (lines.Length == 1) return record;
        if (lines.Length > 2 + ContainerGrant.MaxNodes) return null;
        var container = Fields(lines[1]);
        if (container.Length is not (3 or 4) || container[0] != "container" || ContainerNameText.FindProblem(container[1]) is not null
            || !int.TryParse(container[2], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0
            || container.Length == 4 && container[3] != "dedicated") return null;
        var nodes = new List<DeviceNode>();
        foreach (var line in lines.Skip(2))
        {
            var node = Fields(line);
            if (node.Length == 0 || node[0] != "node" || DeviceNode.Parse(node[1..]) is not { } parsed) return null;
            nodes.Add(parsed);
        }
        return record with { Container = new ContainerGrant(container[1], pid, nodes, DedicatedController: container.Length == 4) };
    }

    /// <summary>The file content exactly as <c>usbip attach</c> writes it, with the container lines after it when there is one.</summary>
    public string ToFileText()
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{Host} {TcpPort} {BusId}\n");
        if (Container is not { } grant) return text;
        return text + string.Create(CultureInfo.InvariantCulture, $"container {grant.Name} {grant.ProcessId}{(grant.DedicatedController ? " dedicated" : "")}\n")
            + string.Concat(grant.Nodes.Select(n => n.ToRecordLine() + "\n"));
    }

    private static string[] Fields(string line) => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

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
