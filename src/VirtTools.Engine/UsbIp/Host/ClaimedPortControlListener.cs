using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using VirtTools.Diagnostics;
using VirtTools.State;
using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.UsbIp.Host;

/// <summary>
/// The keeper's end of <see cref="ClaimedPortControl"/>: a Unix socket in /run/virttools (mode 0600) that only root
/// and this process's own user may use (the peer's credentials are read from the kernel, SO_PEERCRED), served one
/// connection at a time on a thread of its own. Each connection may take 5 s to send its request; whatever it sends,
/// the listener answers or hangs up and goes on.
/// </summary>
public sealed class ClaimedPortControlListener : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Listeners this process started: each gets a socket name of its own.</summary>
    private static int _started;

    private readonly Socket _socket;
    private readonly string _path;
    private readonly ClaimedPortKeeper _keeper;
    private readonly UsbIpExporter _exporter;
    private readonly Action<string> _log;
    private readonly Thread _thread;
    private volatile bool _stopping;

    private ClaimedPortControlListener(Socket socket, string path, SystemRoot root, ClaimedPortKeeper keeper, Action<string> log)
    {
        _socket = socket;
        _path = path;
        _keeper = keeper;
        _exporter = new UsbIpExporter(root);
        _log = log;
        _thread = new Thread(Serve) { IsBackground = true, Name = "usbip port control" };
    }

    /// <summary>Where the listener listens.</summary>
    public string SocketPath => _path;

    /// <summary>
    /// Listens for removals on behalf of <paramref name="keeper"/>; null (said through <paramref name="log"/>) when the
    /// socket cannot be made, so the keeper still keeps its ports and only other processes' removals are not routed.
    /// </summary>
    public static ClaimedPortControlListener? TryStart(SystemRoot root, ClaimedPortKeeper keeper, Action<string> log)
    {
        if (!OperatingSystem.IsLinux()) return null; // port claims are Linux's usbfs
        var path = ClaimedPortControl.SocketPath(root, Environment.ProcessId, Interlocked.Increment(ref _started) - 1);
        Socket? socket = null;
        try
        {
            using var folder = StateFolder.Open(Path.GetDirectoryName(path)!); // root's, 0755, as the record files' folder
            // A socket left by an earlier process with this id: unlink removes the name (a symlink itself, never its target).
            File.Delete(path);
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(folder.ShortPath(Path.GetFileName(path))));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            socket.Listen(4);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException or ArgumentException or VirtToolsException)
        {
            socket?.Dispose();
            log($"Remove-UsbIpExport in other processes cannot reach this one's claimed ports: no control socket at {path} ({e.Message}).");
            return null;
        }
        var listener = new ClaimedPortControlListener(socket, path, root, keeper, log);
        listener._thread.Start();
        return listener;
    }

    private void Serve()
    {
        while (!_stopping)
        {
            Socket connection;
            try { connection = _socket.Accept(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
            using (connection)
            {
                try { Answer(connection); }
                catch (Exception e)
                {
                    // Whatever a peer sent or did, this thread goes on: one bad exchange never ends the daemon.
                    if (!_stopping) _log($"port control: a request ended without an answer: {e.GetType().Name}: {e.Message}");
                }
            }
        }
    }

    private void Answer(Socket connection)
    {
        if (PeerUserId(connection) is not { } uid || (uid != 0 && uid != Libc.EffectiveUserId()))
        {
            _log("port control: refused a connection from a user other than root.");
            return;
        }
        connection.ReceiveTimeout = (int)RequestTimeout.TotalMilliseconds;
        connection.SendTimeout = (int)ClaimedPortControl.AnswerTimeout.TotalMilliseconds;
        var request = ClaimedPortControl.ReadLine(connection);
        if (request is null) return;
        if (!request.StartsWith(ClaimedPortControl.UnexportVerb, StringComparison.Ordinal)
            || !UsbBusId.TryParse(request[ClaimedPortControl.UnexportVerb.Length..], out var busId))
        {
            Send(connection, $"{ClaimedPortControl.FailedVerb}{UsbIpErrors.UnexportFailedId} {FailureKind.ProtocolError}\tNot a request this process answers.\t");
            return;
        }
        if (!_keeper.Reserves(busId))
        {
            Send(connection, ClaimedPortControl.NotReserved);
            return;
        }
        try
        {
            var device = _keeper.Unexport(_exporter.PlanRemove(busId), force: true,
                warning => Send(connection, ClaimedPortControl.WarningVerb + ClaimedPortControl.OneField(warning)));
            _log($"{busId}: export removed at the request of another process.");
            Send(connection, device is null ? ClaimedPortControl.Unplugged : ClaimedPortControl.Unexported);
        }
        catch (VirtToolsException failure)
        {
            Send(connection, $"{ClaimedPortControl.FailedVerb}{failure.ErrorId} {failure.Kind}\t{ClaimedPortControl.OneField(failure.Message)}\t{ClaimedPortControl.OneField(failure.RecommendedAction ?? "")}");
        }
    }

    private static void Send(Socket connection, string line) => connection.Send(Encoding.UTF8.GetBytes(line + "\n"));

    /// <summary>The connecting process's user id as the kernel recorded it at connect (struct ucred: pid, uid, gid).</summary>
    private static uint? PeerUserId(Socket connection)
    {
        const int SolSocket = 1, SoPeerCred = 17;
        Span<byte> credentials = stackalloc byte[12];
        try
        {
            return connection.GetRawSocketOption(SolSocket, SoPeerCred, credentials) == 12
                ? MemoryMarshal.Read<uint>(credentials[4..])
                : null;
        }
        catch (SocketException) { return null; }
    }

    /// <summary>Stops listening and removes the socket.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        // Shutdown wakes a blocked accept (close alone does not on Linux).
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { }
        _socket.Dispose();
        _thread.Join(TimeSpan.FromSeconds(10));
        try { File.Delete(_path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
