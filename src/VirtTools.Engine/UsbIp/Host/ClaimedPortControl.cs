using System.Net.Sockets;
using System.Text;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.UsbIp.Host;

/// <summary>
/// How Remove-UsbIpExport in one process reaches the <see cref="ClaimedPortKeeper"/> of another (`virttools usbipd
/// --claim-port`, the agent, Start-UsbIpServer -ClaimPort in another shell): a port claim is an open usbfs descriptor,
/// held only by the process that made it, so only that process can claim the port again between usbip-host's unbind
/// and the reprobe. Each keeper listens on /run/virttools/usbipd-PID.sock (the second of a process on usbipd-PID-1.sock,
/// and so on; <see cref="ClaimedPortControlListener"/>);
/// a removal asks each in turn. One request and its answer per connection, one line each, bounded.
/// </summary>
/// <remarks>
/// Request: <c>unexport BUSID</c>. Answer: any number of <c>warning TEXT</c> lines, then one of <c>unexported</c>,
/// <c>unplugged</c>, <c>not-reserved</c> (this keeper does not keep that port; ask the next) or
/// <c>failed ERRORID KIND</c>, a tab, the message, a tab, the recommended action.
/// </remarks>
public static class ClaimedPortControl
{
    public const string Folder = "/run/virttools";
    public const string SocketPrefix = "usbipd-";
    public const string SocketSuffix = ".sock";

    /// <summary>A line longer than this is not one the protocol sends: the connection is dropped.</summary>
    public const int MaxLineBytes = 4096;

    /// <summary>At most this many warnings precede an answer.</summary>
    public const int MaxWarnings = 16;

    /// <summary>How long a caller waits for the answer: the keeper unbinds, reprobes and checks the driver link.</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(60);

    internal const string Unexported = "unexported", Unplugged = "unplugged", NotReserved = "not-reserved";
    internal const string UnexportVerb = "unexport ", WarningVerb = "warning ", FailedVerb = "failed ";

    /// <summary>
    /// The socket of a keeper in process <paramref name="processId"/>, resolved inside the root; <paramref name="keeper"/>
    /// tells the keepers of one process apart (a session can start more than one server that claims ports).
    /// </summary>
    public static string SocketPath(SystemRoot root, int processId, int keeper = 0) =>
        root.ResolveForWrite(Folder).TrimEnd('/') + "/" + SocketPrefix + processId + (keeper == 0 ? "" : "-" + keeper) + SocketSuffix;

    /// <summary>
    /// Asks every keeper listening under the root to remove this export. Returns the keeper's process id when one
    /// reserves the device's port and removed the export (its warnings go to <paramref name="warn"/>); null when
    /// none does, so the caller removes it itself. A keeper that refused throws its error here.
    /// </summary>
    public static int? TryUnexport(SystemRoot root, UsbBusId busId, Action<string>? warn = null)
    {
        var listening = Listening(root).ToList();
        if (listening.Count == 0) return null;
        using var folder = State.StateFolder.Open(root.ResolveForWrite(Folder));
        foreach (var (processId, path) in listening)
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(folder.ShortPath(Path.GetFileName(path))));
            }
            catch (SocketException)
            {
                continue; // a keeper that ended without removing its socket
            }
            socket.SendTimeout = (int)AnswerTimeout.TotalMilliseconds;
            socket.ReceiveTimeout = (int)AnswerTimeout.TotalMilliseconds;
            try
            {
                socket.Send(Encoding.UTF8.GetBytes(UnexportVerb + busId + "\n"));
                if (ReadAnswer(socket, busId, processId, warn)) return processId;
            }
            catch (SocketException e)
            {
                throw new VirtToolsException(UsbIpErrors.UnexportFailedId, FailureKind.ConnectionError,
                    $"The process that keeps USB ports claimed (pid {processId}, {path}) did not answer about '{busId}': {e.Message}. The export may or may not be removed.",
                    $"See that process's log; Get-UsbIpExport shows whether {busId} is still exported.", busId, e);
            }
        }
        return null;
    }

    /// <summary>The sockets under the root whose name carries a process id.</summary>
    private static IEnumerable<(int ProcessId, string Path)> Listening(SystemRoot root)
    {
        var folder = root.ResolveForWrite(Folder);
        string[] names;
        try { names = Directory.GetFiles(folder, SocketPrefix + "*" + SocketSuffix); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { yield break; }
        foreach (var path in names.OrderBy(p => p, StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            var digits = name[SocketPrefix.Length..^SocketSuffix.Length].Split('-')[0];
            if (int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var processId))
                yield return (processId, path);
        }
    }

    /// <summary>Reads warnings and the answer; true when the keeper removed the export.</summary>
    private static bool ReadAnswer(Socket socket, UsbBusId busId, int processId, Action<string>? warn)
    {
        for (int warnings = 0; ; warnings++)
        {
            var line = ReadLine(socket) ?? throw Garbled(busId, processId, "the connection ended before an answer");
            if (line.StartsWith(WarningVerb, StringComparison.Ordinal) && warnings < MaxWarnings)
            {
                warn?.Invoke(line[WarningVerb.Length..]);
                continue;
            }
            switch (line)
            {
                case Unexported or Unplugged: return true;
                case NotReserved: return false;
            }
            if (!line.StartsWith(FailedVerb, StringComparison.Ordinal)) throw Garbled(busId, processId, $"it said '{RecordFieldText(line)}'");
            var parts = line[FailedVerb.Length..].Split('\t');
            var head = parts[0].Split(' ');
            var kind = head.Length > 1 && Enum.TryParse<FailureKind>(head[1], out var parsed) ? parsed : FailureKind.OperationFailed;
            throw new VirtToolsException(head[0].Length == 0 ? UsbIpErrors.UnexportFailedId : head[0], kind,
                parts.Length > 1 ? parts[1] : $"The process that keeps USB ports claimed (pid {processId}) could not remove the export of '{busId}'.",
                parts.Length > 2 && parts[2].Length > 0 ? parts[2] : null, busId);
        }
    }

    private static VirtToolsException Garbled(UsbBusId busId, int processId, string what) => new(UsbIpErrors.UnexportFailedId, FailureKind.ProtocolError,
        $"The process that keeps USB ports claimed (pid {processId}) gave no usable answer about '{busId}': {what}.",
        $"Get-UsbIpExport shows whether {busId} is still exported.", busId);

    private static string RecordFieldText(string text) => State.RecordField.Printable(text.Length > 80 ? text[..80] : text);

    /// <summary>One line without its newline; null at the end of the stream. A longer line than allowed ends the exchange.</summary>
    internal static string? ReadLine(Socket socket)
    {
        var line = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (socket.Receive(one) == 0) return null;
            if (one[0] == (byte)'\n') return Encoding.UTF8.GetString(line.ToArray());
            if (line.Count == MaxLineBytes) throw new SocketException((int)SocketError.MessageSize);
            line.Add(one[0]);
        }
    }

    /// <summary>Text for one field of a line: no newline or tab can split it.</summary>
    internal static string OneField(string text) => text.ReplaceLineEndings(" ").Replace('\t', ' ');
}
