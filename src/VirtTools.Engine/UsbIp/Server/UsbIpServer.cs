using System.Net;
using System.Net.Sockets;
using VirtTools.Diagnostics;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// A managed usbipd: answers OP_REQ_DEVLIST from the devices bound to usbip-host and hands the socket of an
/// OP_REQ_IMPORT to the kernel. Asynchronous throughout (no thread per connection), one request per connection
/// as the protocol has it, a deadline on every request, a cap on connections served at once, and an allow-list.
/// The object is also what Start-UsbIpServer returns: its counters are live.
/// </summary>
public sealed class UsbIpServer : IAsyncDisposable
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly IExportedDeviceSource _devices;
    private readonly IUsbIpSocketHandoff _handoff;
    private readonly UsbIpServerOptions _options;
    private readonly List<Socket> _listeners = new();
    private readonly List<Task> _acceptLoops = new();
    private readonly CancellationTokenSource _stopping = new();
    private long _connections, _imports, _refused, _protocolErrors, _timeouts, _overCapacity;
    private int _active;

    private UsbIpServer(IExportedDeviceSource devices, IUsbIpSocketHandoff handoff, UsbIpServerOptions options)
    {
        _devices = devices;
        _handoff = handoff;
        _options = options;
        AllowedClient = options.AllowedClients.Entries.ToArray();
        Root = options.Root;
    }

    /// <summary>The addresses listened on ("::" and "0.0.0.0" for the default dual-stack socket).</summary>
    public string[] Address { get; private set; } = Array.Empty<string>();

    /// <summary>The TCP port listened on (the one the system picked when 0 was asked).</summary>
    public int TcpPort { get; private set; }

    public string[] AllowedClient { get; }

    public DateTime StartTime { get; private set; }

    /// <summary>Connections accepted since the start.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Devices handed to the kernel since the start.</summary>
    public long Imports => Interlocked.Read(ref _imports);

    /// <summary>Requests from clients outside the allow-list.</summary>
    public long RefusedClients => Interlocked.Read(ref _refused);

    public long ProtocolErrors => Interlocked.Read(ref _protocolErrors);

    /// <summary>Connections closed because the request did not arrive in time.</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <summary>Connections closed at accept because <see cref="UsbIpServerOptions.MaxConnections"/> were being served.</summary>
    public long OverCapacity => Interlocked.Read(ref _overCapacity);

    /// <summary>Connections being served right now.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    public bool IsRunning => !_stopping.IsCancellationRequested;

    public string Root { get; }

    /// <summary>Binds every address, then starts accepting. Binding failures (port in use, no permission) throw.</summary>
    public static UsbIpServer Start(IExportedDeviceSource devices, IUsbIpSocketHandoff handoff, UsbIpServerOptions options)
    {
        var server = new UsbIpServer(devices, handoff, options);
        try
        {
            server.Listen();
        }
        catch
        {
            server.CloseListeners();
            throw;
        }
        server.StartTime = DateTime.Now;
        foreach (var listener in server._listeners) server._acceptLoops.Add(server.AcceptLoopAsync(listener));
        server.Log($"listening on {string.Join(", ", server._listeners.Select(l => l.LocalEndPoint))}, serving {string.Join(", ", server.AllowedClient)}");
        return server;
    }

    private void Listen()
    {
        var port = _options.TcpPort;
        if (_options.Addresses.Count == 0)
        {
            var dualStack = Bind(IPAddress.IPv6Any, port, dualMode: true) ?? Bind(IPAddress.Any, port, dualMode: false)!;
            TcpPort = ((IPEndPoint)dualStack.LocalEndPoint!).Port;
            Address = dualStack.AddressFamily == AddressFamily.InterNetworkV6 ? new[] { "::", "0.0.0.0" } : new[] { "0.0.0.0" };
            return;
        }
        foreach (var address in _options.Addresses)
        {
            // With port 0 the first socket picks the port and the others join it, so the server has one port.
            Bind(address, port, dualMode: false);
            port = TcpPort = ((IPEndPoint)_listeners[^1].LocalEndPoint!).Port;
        }
        Address = _options.Addresses.Select(a => a.ToString()).ToArray();
    }

    /// <summary>A listening socket; null only when a dual-stack socket is impossible (IPv6 disabled), to fall back to IPv4.</summary>
    private Socket? Bind(IPAddress address, int port, bool dualMode)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (dualMode) socket.DualMode = true;
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(1024);
            _listeners.Add(socket);
            return socket;
        }
        catch (SocketException e) when (dualMode && e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable)
        {
            socket.Dispose();
            return null;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            var endpoint = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
            throw e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => new VirtToolsException("UsbIpPortInUse", FailureKind.ResourceBusy,
                    $"TCP port {port} is already in use on {address}: another USB/IP server (usbipd?) may be running.",
                    "Stop the other server (systemctl stop usbipd) or choose another -TcpPort / --port.", endpoint, e),
                SocketError.AccessDenied => new VirtToolsException("PermissionDenied", FailureKind.PermissionDenied,
                    $"Not allowed to listen on {endpoint}.", "Run as root, or choose a TCP port above 1023.", endpoint, e),
                _ => new VirtToolsException("UsbIpListenFailed", FailureKind.ResourceUnavailable,
                    $"Cannot listen on {endpoint}: {e.Message}.", "Check that the address belongs to this host (ip address).", endpoint, e),
            };
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { return; }
            catch (SocketException e)
            {
                // Out of file descriptors and the like: say so, breathe, go on.
                Log($"accept failed: {e.Message}");
                try { await Task.Delay(100, _stopping.Token).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
                continue;
            }
            Interlocked.Increment(ref _connections);
            if (Interlocked.Increment(ref _active) > _options.MaxConnections)
            {
                Interlocked.Decrement(ref _active);
                Interlocked.Increment(ref _overCapacity);
                client.Dispose();
                continue;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var peer = PeerOf(socket);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            deadline.CancelAfter(_options.RequestTimeout);
            var request = new byte[UsbIpManagementCodec.ImportRequestSize];
            await socket.ReceiveExactlyAsync(request.AsMemory(0, UsbIpProtocol.OpCommonSize), "request header", deadline.Token).ConfigureAwait(false);
            var header = UsbIpManagementCodec.ReadOpCommon(request.AsSpan(0, UsbIpProtocol.OpCommonSize));
            var allowed = peer is not null && _options.AllowedClients.Allows(peer);
            switch (header.Code)
            {
                case UsbIpOperation.RequestDeviceList:
                    await SendDeviceListAsync(socket, peer, allowed, deadline.Token).ConfigureAwait(false);
                    break;
                case UsbIpOperation.RequestImport:
                    await socket.ReceiveExactlyAsync(request.AsMemory(UsbIpProtocol.OpCommonSize), "import request", deadline.Token).ConfigureAwait(false);
                    var busId = UsbIpManagementCodec.ReadImportRequestBusId(request.AsSpan(UsbIpProtocol.OpCommonSize));
                    await ImportAsync(socket, peer, busId, allowed, deadline.Token).ConfigureAwait(false);
                    break;
                default:
                    throw new UsbIpProtocolException(UsbIpProtocolException.Unexpected,
                        $"operation 0x{(ushort)header.Code:x4} is not a request this server answers.");
            }
        }
        catch (UsbIpProtocolException e)
        {
            Interlocked.Increment(ref _protocolErrors);
            Log($"{peer}: {e.Message} Connection closed.");
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            Interlocked.Increment(ref _timeouts);
            Log($"{peer}: no complete request within {_options.RequestTimeout.TotalSeconds:0.#} s. Connection closed.");
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // The peer went away, or the server is stopping: nothing to answer.
        }
        catch (Exception e)
        {
            Log($"{peer}: internal error, connection closed: {e}");
        }
        finally
        {
            // After a hand-off this closes only our descriptor: usbip-host holds its own reference to the socket.
            // No operation is pending here, so .NET closes the fd plainly (no shutdown, no abortive reset).
            socket.Dispose();
            Interlocked.Decrement(ref _active);
        }
    }

    private async Task SendDeviceListAsync(Socket socket, IPAddress? peer, bool allowed, CancellationToken cancellation)
    {
        IReadOnlyList<UsbIpDeviceRecord> offered = Array.Empty<UsbIpDeviceRecord>();
        if (allowed)
            // As recent usbipd: a device another client already uses is not offered.
            offered = _devices.ReadExportedDevices().Where(d => d.Status == UsbIpStatus.Available).Select(d => d.Record).ToList();
        else
        {
            Interlocked.Increment(ref _refused);
            Log($"{peer}: not an allowed client; sent an empty device list.");
        }
        var reply = new byte[UsbIpManagementCodec.DeviceListReplySize(offered)];
        UsbIpManagementCodec.WriteDeviceListReply(reply, offered);
        await socket.SendAsync(reply, SocketFlags.None, cancellation).ConfigureAwait(false);
    }

    private async Task ImportAsync(Socket socket, IPAddress? peer, string busId, bool allowed, CancellationToken cancellation)
    {
        var (status, device) = Decide(peer, busId, allowed);
        if (status == UsbIpReplyStatus.Ok)
        {
            try
            {
                PrepareForKernel(socket);
                _handoff.HandOver(busId, socket);
                Interlocked.Increment(ref _imports);
                Log($"{peer}: imported {busId} ({device!.Record.VendorId:x4}:{device.Record.ProductId:x4}); the connection now belongs to usbip-host.");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException)
            {
                // usbipd answers ST_NA when usbip-host refuses the socket.
                Log($"{peer}: import of {busId} failed, usbip-host refused the socket: {e.Message}");
                status = UsbIpReplyStatus.NotAvailable;
            }
        }
        var reply = new byte[UsbIpManagementCodec.ImportReplySize];
        var length = UsbIpManagementCodec.WriteImportReply(reply, status, status == UsbIpReplyStatus.Ok ? device!.Record : null);
        // As usbipd: the reply goes out after the hand-off; usbip-host only reads until the client sends its first URB.
        await socket.SendAsync(reply.AsMemory(0, length), SocketFlags.None, cancellation).ConfigureAwait(false);
    }

    private (UsbIpReplyStatus, ExportedDevice?) Decide(IPAddress? peer, string busId, bool allowed)
    {
        if (!allowed)
        {
            Interlocked.Increment(ref _refused);
            Log($"{peer}: refused import of {busId}: not an allowed client.");
            return (UsbIpReplyStatus.NotAvailable, null);
        }
        var device = _devices.ReadExportedDevices().FirstOrDefault(d => d.Record.BusId == busId);
        var status = device?.Status switch
        {
            null => UsbIpReplyStatus.NoDevice,
            UsbIpStatus.Available => UsbIpReplyStatus.Ok,
            UsbIpStatus.InUse => UsbIpReplyStatus.DeviceBusy,
            UsbIpStatus.Error => UsbIpReplyStatus.DeviceError,
            _ => UsbIpReplyStatus.NotAvailable,
        };
        if (status != UsbIpReplyStatus.Ok) Log($"{peer}: import of {busId} refused: {status}.");
        return (status, device);
    }

    /// <summary>As usbipd: no Nagle delay on URB traffic, and keepalive so a vanished client is noticed.</summary>
    private static void PrepareForKernel(Socket socket)
    {
        socket.NoDelay = true;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 10);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 1);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 5);
    }

    private static IPAddress? PeerOf(Socket socket)
    {
        try
        {
            var address = (socket.RemoteEndPoint as IPEndPoint)?.Address;
            return address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { return null; }
    }

    private void Log(string line) => _options.Log?.Invoke(line);

    /// <summary>Stops accepting, ends the requests in progress, and waits (briefly) for them.</summary>
    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        CloseListeners();
        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (ActiveConnections > 0 && waited.Elapsed < DrainTimeout) await Task.Delay(10).ConfigureAwait(false);
        Log($"stopped after {Connections} connections and {Imports} imports");
    }

    private void CloseListeners()
    {
        foreach (var listener in _listeners) listener.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    public override string ToString() => $"USB/IP server on {string.Join(", ", Address)} port {TcpPort}";
}
