using System.Net.Security;
using System.Net.Sockets;
using System.Net;
using System.Security.Authentication;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Tls;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// A managed usbipd: answers OP_REQ_DEVLIST from the devices bound to usbip-host and hands the socket of an
/// OP_REQ_IMPORT to the kernel. Asynchronous throughout (no thread per connection), one request per connection
/// as the protocol has it. Built to keep serving its clients under attack: connections that send nothing stay in the
/// kernel's queue (TCP_DEFER_ACCEPT); the allow-list is checked at accept and a denied peer is closed at once, without
/// a slot or a read; allowed connections take slots bounded per client and in all (<see cref="ConnectionSlots"/>),
/// each with a short deadline; peer text is escaped and repeated events are counted in the log (<see cref="ServerLog"/>).
/// With TLS settings the same port also speaks TLS: the first byte tells a TLS ClientHello (0x16) from a USB/IP
/// request (0x01); a TLS client's import is handed to usbip-host through a local socket pair and relayed
/// (<see cref="UsbIpRelay"/>), as the kernel cannot read TLS. Plain USB/IP is unchanged unless TLS is required.
/// The object is also what Start-UsbIpServer returns: its counters are live.
/// </summary>
public sealed class UsbIpServer : IAsyncDisposable
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LogWindow = TimeSpan.FromSeconds(10);

    /// <summary>How often held devices' usbip_status is read to learn that a plain client went (readers check it too).</summary>
    private static readonly TimeSpan HolderSweepInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Connections the kernel completes and queues before we accept them (it caps this at net.core.somaxconn).
    /// Deep, so a burst of connections is queued rather than refused while the accept loop works through it.
    /// </summary>
    private const int ListenBacklog = 4096;

    /// <summary>A port-0 server picks its port on the first address; another process may hold it on the next.</summary>
    private const int PortPicks = 3;

    /// <summary>The first byte of a TLS handshake record (content type 22), which no USB/IP request starts with.</summary>
    private const byte TlsHandshakeRecord = 0x16;

    /// <summary>
    /// How much of a TLS refusal or identity a log line shows: a certificate's subject is the peer's text (escaped), and
    /// with its 71-character fingerprint and our words it is longer than the bus ids ServerLog quotes.
    /// </summary>
    private const int MaxCertificateText = 400;

    private readonly IExportedDeviceSource _devices;
    private readonly IUsbIpSocketHandoff _handoff;
    private readonly UsbIpServerOptions _options;
    private readonly List<Socket> _listeners = new();
    private readonly List<Task> _acceptLoops = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConnectionSlots _slots;
    private readonly ServerLog _log;
    private readonly UsbIpTlsServerCredentials? _tls;
    private readonly IReadOnlyList<UsbIpGrant> _grants;
    private readonly SystemRoot _root;
    private readonly ExportHolders? _holders;
    private Task _sweepLoop = Task.CompletedTask;
    private long _connections, _imports, _refused, _protocolErrors, _timeouts, _overCapacity, _evicted, _tlsRefused;
    private int _relays;

    private UsbIpServer(IExportedDeviceSource devices, IUsbIpSocketHandoff handoff, UsbIpServerOptions options)
    {
        _devices = devices;
        _handoff = handoff;
        _options = options;
        // First, so a certificate that cannot be used fails the start before anything else is set up. Only here is
        // TLS (OpenSSL) loaded: a server without TLS settings runs on a host with no libssl.
        _tls = options.Tls is null ? null : UsbIpTlsServerCredentials.Load(options.Tls);
        _grants = options.Tls?.Grants ?? Array.Empty<UsbIpGrant>();
        _root = new SystemRoot(options.Root);
        _slots = new ConnectionSlots(options.MaxConnections, options.ReservedConnections, options.MaxConnectionsPerClient);
        _log = new ServerLog(options.Log, LogWindow);
        _holders = options.RecordHolders ? new ExportHolders(_root, _log.Write) : null;
        AllowedClient = options.AllowedClients.Entries.ToArray();
        Root = options.Root;
    }

    /// <summary>The addresses listened on (by default "127.0.0.1" and "::1").</summary>
    public string[] Address { get; private set; } = Array.Empty<string>();

    /// <summary>The TCP port listened on (the one the system picked when 0 was asked).</summary>
    public int TcpPort { get; private set; }

    public string[] AllowedClient { get; }

    public DateTime StartTime { get; private set; }

    /// <summary>Connections accepted since the start.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Devices handed to the kernel since the start.</summary>
    public long Imports => Interlocked.Read(ref _imports);

    /// <summary>Connections from clients outside the allow-list, closed at accept.</summary>
    public long RefusedClients => Interlocked.Read(ref _refused);

    public long ProtocolErrors => Interlocked.Read(ref _protocolErrors);

    /// <summary>Connections closed because the request did not arrive in time.</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <summary>
    /// Connections closed at accept because their client (<see cref="UsbIpServerOptions.MaxConnectionsPerClient"/>)
    /// or the server (<see cref="UsbIpServerOptions.MaxConnections"/>) had no slot, and no silent connection to replace.
    /// </summary>
    public long OverCapacity => Interlocked.Read(ref _overCapacity);

    /// <summary>Connections closed before sending anything, to make room for a newer one.</summary>
    public long Evicted => Interlocked.Read(ref _evicted);

    /// <summary>Connections being served right now (waiting for their request or being answered).</summary>
    public int ActiveConnections => _slots.Held;

    /// <summary>Whether TLS clients are served on the port (a certificate was given).</summary>
    public bool Tls => _tls is not null;

    /// <summary>Whether plain USB/IP is refused: only TLS clients are served.</summary>
    public bool RequireTls => _options.Tls?.Require == true;

    /// <summary>TLS connections refused (failed handshake, client certificate refused) and plain ones refused under <see cref="RequireTls"/>.</summary>
    public long TlsRefused => Interlocked.Read(ref _tlsRefused);

    /// <summary>Imports over TLS being relayed right now (each ends when its client or usbip-host closes).</summary>
    public int Relays => Volatile.Read(ref _relays);

    public bool IsRunning => !_stopping.IsCancellationRequested;

    public string Root { get; }

    /// <summary>Binds every address (loopback when none is given), then starts accepting. Binding failures (port in use, no permission) throw.</summary>
    public static UsbIpServer Start(IExportedDeviceSource devices, IUsbIpSocketHandoff handoff, UsbIpServerOptions options)
    {
        var server = new UsbIpServer(devices, handoff, options);
        for (var pick = 1; ; pick++)
        {
            try
            {
                server.Listen();
                break;
            }
            catch (VirtToolsException e) when (options.TcpPort == 0 && e.ErrorId == UsbIpErrors.PortInUseId && pick < PortPicks)
            {
                server.CloseListeners();
            }
            catch
            {
                server.CloseListeners();
                server._log.Dispose();
                throw;
            }
        }
        server.StartTime = DateTime.Now;
        foreach (var listener in server._listeners) server._acceptLoops.Add(server.AcceptLoopAsync(listener));
        if (server._holders is not null) server._sweepLoop = server.SweepHoldersAsync();
        server._log.Write($"listening on {string.Join(", ", server._listeners.Select(l => l.LocalEndPoint))}, serving {string.Join(", ", server.AllowedClient)}");
        return server;
    }

    private void Listen()
    {
        var explicitly = _options.Addresses.Count > 0;
        var addresses = explicitly ? _options.Addresses : new[] { IPAddress.Loopback, IPAddress.IPv6Loopback };
        var port = _options.TcpPort;
        foreach (var address in addresses)
        {
            // ::1 is there unless IPv6 is off on this host; then loopback is 127.0.0.1 alone.
            if (Bind(address, port, optional: !explicitly && address.Equals(IPAddress.IPv6Loopback)) is not { } listener) continue;
            // With port 0 the first socket picks the port and the others join it, so the server has one port.
            port = TcpPort = ((IPEndPoint)listener.LocalEndPoint!).Port;
        }
        Address = _listeners.Select(l => ((IPEndPoint)l.LocalEndPoint!).Address.ToString()).ToArray();
    }

    /// <summary>A listening socket; null only for an optional address this host does not have.</summary>
    private Socket? Bind(IPAddress address, int port, bool optional)
    {
        Socket? socket = null;
        try
        {
            // Inside the try: without IPv6 in the kernel, even creating the socket fails.
            socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, port));
            DeferAcceptUntilData(socket);
            socket.Listen(ListenBacklog);
            _listeners.Add(socket);
            return socket;
        }
        catch (SocketException e) when (optional && e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable)
        {
            socket?.Dispose();
            return null;
        }
        catch (SocketException e)
        {
            socket?.Dispose();
            var endpoint = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
            throw e.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => new VirtToolsException(UsbIpErrors.PortInUseId, FailureKind.ResourceBusy,
                    $"TCP port {port} is already in use on {address}: another USB/IP server (usbipd?) may be running.",
                    "Stop the other server (systemctl stop usbipd) or choose another -TcpPort / --port.", endpoint, e),
                SocketError.AccessDenied => new VirtToolsException(SysfsErrors.PermissionDeniedId, FailureKind.PermissionDenied,
                    $"Not allowed to listen on {endpoint}.", "Run as root, or choose a TCP port above 1023.", endpoint, e),
                _ => new VirtToolsException(UsbIpErrors.ListenFailedId, FailureKind.ResourceUnavailable,
                    $"Cannot listen on {endpoint}: {e.Message}.", "Check that the address belongs to this host (ip address).", endpoint, e),
            };
        }
    }

    /// <summary>
    /// TCP_DEFER_ACCEPT: the kernel hands us a connection only once its first bytes arrived (or, for a silent one,
    /// after about the request deadline). usbip sends its request right after connecting, so clients come with their
    /// request in hand, while silent connections wait in the kernel's queue instead of in our slots.
    /// </summary>
    private void DeferAcceptUntilData(Socket listener)
    {
        const int IpProtoTcp = 6, TcpDeferAccept = 9;
        var seconds = (int)Math.Max(1, Math.Ceiling(_options.RequestTimeout.TotalSeconds));
        listener.SetRawSocketOption(IpProtoTcp, TcpDeferAccept, BitConverter.GetBytes(seconds));
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
                _log.Write($"accept failed: {e.Message}");
                try { await Task.Delay(100, _stopping.Token).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
                continue;
            }
            Interlocked.Increment(ref _connections);
            if (Admit(client) is { } admitted) _ = ServeAsync(client, admitted.Peer, admitted);
        }
    }

    /// <summary>
    /// Every <see cref="HolderSweepInterval"/> while devices are held, drops the holder records of devices usbip-host
    /// no longer uses: after a plain hand-off only the kernel sees the client go (usbip_status 2 becomes 1).
    /// </summary>
    private async Task SweepHoldersAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try { await Task.Delay(HolderSweepInterval, _stopping.Token).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
            try
            {
                if (_holders is { IsEmpty: false }) _holders.Sweep();
            }
            catch (Exception e)
            {
                // A display-only fact: the next sweep tries again, and serving goes on regardless.
                _log.Write($"holder records: sweep failed: {e.Message}");
            }
        }
    }

    /// <summary>The request is in: from here the reply has its own bound (see ReplyTimeout).</summary>
    private bool StartReply(CancellationTokenSource deadline)
    {
        deadline.CancelAfter(_options.ReplyTimeout);
        return true;
    }

    /// <summary>The connection's slot, or null when it was closed at once: denied, or no slot for it.</summary>
    private ConnectionSlots.Slot? Admit(Socket client)
    {
        var peer = PeerOf(client);
        if (peer is null || !_options.AllowedClients.Allows(peer))
        {
            Interlocked.Increment(ref _refused);
            _log.Peer(peer, PeerEvent.Denied, "not an allowed client; connection closed at once.");
            CloseAtOnce(client);
            return null;
        }
        var slot = _slots.TryTake(peer, () => HasReceived(client), out var evicted, out var refusal);
        if (evicted is not null)
        {
            Interlocked.Increment(ref _evicted);
            _log.Peer(evicted.Peer, PeerEvent.Evicted, "a connection that sent nothing was closed to make room for a new one.");
            evicted.Eviction.Cancel();
        }
        if (slot is null)
        {
            Interlocked.Increment(ref _overCapacity);
            _log.Peer(peer, refusal, refusal == PeerEvent.ClientLimit
                ? $"already {_slots.PerClient} connections being served for this client; connection closed."
                : $"all {_slots.Total} connection slots are serving requests; connection closed.");
            CloseAtOnce(client);
        }
        return slot;
    }

    private async Task ServeAsync(Socket socket, IPAddress peer, ConnectionSlots.Slot slot)
    {
        bool replying = false;
        Session? session = null;
        Socket? relayEnd = null;
        string? importedBusId = null;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, slot.Eviction.Token);
            deadline.CancelAfter(_options.RequestTimeout);
            // Wait for the first bytes without taking them: while they sit in the socket the slot is not silent,
            // and no newer connection can make this one give way before it is marked as serving.
            await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            if (!_slots.StartServing(slot)) return;
            var request = new byte[UsbIpManagementCodec.ImportRequestSize];
            session = await OpenSessionAsync(socket, peer, request, deadline).ConfigureAwait(false);
            if (session is null) return;
            var stream = session.Stream;
            await stream.ReceiveExactlyAsync(request.AsMemory(0, UsbIpProtocol.OpCommonSize), "request header", deadline.Token).ConfigureAwait(false);
            var header = UsbIpManagementCodec.ReadOpCommon(request.AsSpan(0, UsbIpProtocol.OpCommonSize));
            switch (header.Code)
            {
                case UsbIpOperation.RequestDeviceList:
                    replying = StartReply(deadline);
                    await SendDeviceListAsync(stream, session, peer, deadline.Token).ConfigureAwait(false);
                    break;
                case UsbIpOperation.RequestImport:
                    await stream.ReceiveExactlyAsync(request.AsMemory(UsbIpProtocol.OpCommonSize), "import request", deadline.Token).ConfigureAwait(false);
                    var busId = UsbIpManagementCodec.ReadImportRequestBusId(request.AsSpan(UsbIpProtocol.OpCommonSize));
                    replying = StartReply(deadline);
                    importedBusId = busId;
                    relayEnd = await ImportAsync(socket, session, peer, busId, deadline.Token).ConfigureAwait(false);
                    break;
                default:
                    throw new UsbIpProtocolException(UsbIpProtocolException.Unexpected,
                        $"operation 0x{(ushort)header.Code:x4} is not a request this server answers.");
            }
        }
        catch (UsbIpProtocolException e)
        {
            Interlocked.Increment(ref _protocolErrors);
            _log.Peer(peer, PeerEvent.ProtocolError, $"{e.Message} Connection closed.");
        }
        catch (OperationCanceledException) when (slot.Eviction.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
            // Made room for a newer connection (logged there), or the server is stopping.
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref _timeouts);
            _log.Peer(peer, PeerEvent.Timeout, replying
                ? $"the reply was not sent within {_options.ReplyTimeout.TotalSeconds:0.#} s (the kernel was slow to show the exports); connection closed."
                : $"no complete request within {_options.RequestTimeout.TotalSeconds:0.#} s; connection closed.");
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            // The peer went away: nothing to answer. Said (and counted under a flood), so a client that saw its
            // connection closed with no reply can be matched with a cause on this side.
            if (!_stopping.IsCancellationRequested)
                _log.Peer(peer, PeerEvent.ConnectionLost, $"connection lost before the reply was sent ({e.GetType().Name}: {e.Message}).");
        }
        catch (Exception e)
        {
            _log.Write($"{peer}: internal error, connection closed: {e}");
        }
        finally
        {
            _slots.Release(slot);
            // A relayed import keeps its connection, without a slot, for as long as the device is used.
            if (relayEnd is not null) _ = RelayAsync(socket, session!, relayEnd, importedBusId!);
            else
            {
                session?.Stream.Dispose();
                // After a hand-off this closes only our descriptor: usbip-host holds its own reference to the socket.
                // No operation is pending here, so .NET closes the fd plainly (no shutdown, no abortive reset).
                socket.Dispose();
            }
        }
    }

    /// <summary>One connection's protocol: plain USB/IP on the socket, or TLS over it when the first byte is a ClientHello.</summary>
    private sealed record Session(Stream Stream, string Client, RelayConnection? Relayed = null, UsbIpClientIdentity? Identity = null, string? Presented = null)
    {
        /// <summary>
        /// What protects a relayed import (e.g. "Tls13, TLS_CHACHA20_POLY1305_SHA256"), for the import's log line: the
        /// relay's cost depends on it. Read once the handshake is done, so nothing between the hand-off and the relay
        /// can throw.
        /// </summary>
        public string Cipher { get; } = Stream is SslStream tls ? $"{tls.SslProtocol}, {tls.NegotiatedCipherSuite}" : "no TLS";

        /// <summary>Who the client is in a log line that already starts with its address.</summary>
        public string Who => Presented ?? "a client with no certificate";
    }

    /// <summary>
    /// The connection's session, told apart by its first byte (peeked, so it stays for the reader); null when it was
    /// refused and logged: a failed TLS handshake or client certificate, or plain USB/IP where TLS is required.
    /// </summary>
    private async Task<Session?> OpenSessionAsync(Socket socket, IPAddress peer, byte[] buffer, CancellationTokenSource deadline)
    {
        var first = buffer.AsMemory(0, 1);
        if (await socket.ReceiveAsync(first, SocketFlags.Peek, deadline.Token).ConfigureAwait(false) == 0)
            throw new UsbIpProtocolException(UsbIpProtocolException.Truncated, "The peer closed the connection before sending its request.");
        if (first.Span[0] == TlsHandshakeRecord)
        {
            if (_tls is null)
                throw new UsbIpProtocolException(UsbIpProtocolException.Unexpected,
                    "a TLS handshake arrived, but this server has no certificate (virttools usbipd --tls-certificate, Start-UsbIpServer -CertificatePath).");
            deadline.CancelAfter(_options.RequestTimeout + _options.TlsHandshakeTimeout); // from the ClientHello on
            return await AcceptTlsAsync(socket, peer, deadline.Token).ConfigureAwait(false);
        }
        if (RequireTls)
        {
            Interlocked.Increment(ref _tlsRefused);
            _log.Peer(peer, PeerEvent.TlsRefused, "plain USB/IP refused: this server requires TLS (--require-tls); connection closed.");
            return null;
        }
        return new Session(new NetworkStream(socket, ownsSocket: false), peer.ToString());
    }

    /// <summary>The TLS handshake, under the request's deadline; a client it refuses (or a garbled handshake) is logged, with why.</summary>
    private async Task<Session?> AcceptTlsAsync(Socket socket, IPAddress peer, CancellationToken cancellation)
    {
        string? refusal = null;
        var connection = new RelayConnection(socket, ownsSocket: false);
        var tls = connection.Tls;
        try
        {
            await tls.AuthenticateAsServerAsync(_tls!.OptionsFor(reason => refusal = reason), cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            Interlocked.Increment(ref _tlsRefused);
            _log.Peer(peer, PeerEvent.TlsRefused, $"TLS refused: {UsbIpPeerText.Escape(refusal ?? e.Message, MaxCertificateText)}; connection closed.");
            return null;
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        // The subject is the client CA's word (only then is a certificate asked for), escaped all the same.
        if (tls.RemoteCertificate is not { } certificate) return new Session(tls, peer.ToString(), connection);
        var presented = UsbIpPeerText.Escape(CertificateChecks.Identity(certificate), MaxCertificateText);
        return new Session(tls, $"{peer} ({presented})", connection, CertificateChecks.IdentityOf(certificate), presented);
    }

    /// <summary>Relays a TLS import until its client or usbip-host closes, or the server stops; then its connection is closed.</summary>
    private async Task RelayAsync(Socket socket, Session session, Socket relayEnd, string busId)
    {
        Interlocked.Increment(ref _relays);
        try
        {
            var end = await UsbIpRelay.RunAsync(session.Relayed!, relayEnd, _stopping.Token).ConfigureAwait(false);
            _log.Write($"{session.Client}: relay ended, {end.Reason} ({end.ToKernel:N0} bytes to usbip-host in {end.ReadsToKernel:N0} reads of {end.NetworkReceives:N0} receives, {end.ToNetwork:N0} to the client in {end.ReadsToNetwork:N0}).");
        }
        catch (Exception e)
        {
            _log.Write($"{session.Client}: relay failed: {e}");
        }
        finally
        {
            socket.Dispose();
            // usbip-host reads EOF on its end and frees the device: whoever held it holds it no more.
            _holders?.Released(busId);
            Interlocked.Decrement(ref _relays);
        }
    }

    private async Task SendDeviceListAsync(Stream stream, Session session, IPAddress peer, CancellationToken cancellation)
    {
        // As recent usbipd: a device another client already uses is not offered.
        var available = _devices.ReadExportedDevices().Where(d => d.Status == UsbIpStatus.Available).Select(d => d.Record).ToList();
        var offered = available.Where(d => Granted(session, d)).ToList();
        if (offered.Count < available.Count)
            _log.Peer(peer, PeerEvent.ListNarrowed, $"{available.Count - offered.Count} of {available.Count} devices left out of the list for {session.Who}: no grant gives them to it.");
        var reply = new byte[UsbIpManagementCodec.DeviceListReplySize(offered)];
        UsbIpManagementCodec.WriteDeviceListReply(reply, offered);
        await stream.WriteAsync(reply, cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Hands the device over and replies. A plain connection goes to usbip-host itself; a TLS one cannot (the kernel
    /// reads no TLS), so usbip-host gets one end of a local socket pair and the other end is returned, to be relayed.
    /// </summary>
    private async Task<Socket?> ImportAsync(Socket socket, Session session, IPAddress peer, string busId, CancellationToken cancellation)
    {
        var (status, device) = Decide(session, peer, busId);
        Socket? relayEnd = null;
        if (status == UsbIpReplyStatus.Ok)
        {
            try
            {
                PrepareForKernel(socket);
                // Taken before the hand-off: the client's port is the fact the kernel will not keep.
                var client = (IPEndPoint)socket.RemoteEndPoint!;
                if (session.Relayed is not null) relayEnd = HandOverRelayed(busId, socket);
                else _handoff.HandOver(busId, socket);
                Interlocked.Increment(ref _imports);
                _holders?.HandedOver(busId, client, session.Identity);
                _log.Write($"{session.Client}: imported {busId} ({device!.Record.VendorId:x4}:{device.Record.ProductId:x4}); " +
                    (session.Relayed is not null ? $"usbip-host now runs it through the TLS relay ({session.Cipher})." : "the connection now belongs to usbip-host."));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException)
            {
                // usbipd answers ST_NA when usbip-host refuses the socket.
                _log.Write($"{session.Client}: import of {busId} failed, usbip-host refused the socket: {e.Message}");
                status = UsbIpReplyStatus.NotAvailable;
            }
        }
        var reply = new byte[UsbIpManagementCodec.ImportReplySize];
        var length = UsbIpManagementCodec.WriteImportReply(reply, status, status == UsbIpReplyStatus.Ok ? device!.Record : null);
        try
        {
            // As usbipd: the reply goes out after the hand-off; usbip-host only reads until the client sends its first URB.
            await session.Stream.WriteAsync(reply.AsMemory(0, length), cancellation).ConfigureAwait(false);
            return relayEnd;
        }
        catch
        {
            // Without a relay the kernel reads EOF on its end at once and gives the device back.
            if (relayEnd is not null)
            {
                relayEnd.Dispose();
                _holders?.Released(busId);
            }
            throw;
        }
    }

    /// <summary>usbip-host takes one end of a new local socket pair (its own reference: ours is closed here); the other end is returned.</summary>
    private Socket HandOverRelayed(string busId, Socket network)
    {
        var (kernel, relay) = LocalSocketPair.Create();
        using (kernel)
        {
            try
            {
                _handoff.HandOverRelayed(busId, kernel, network);
                return relay;
            }
            catch
            {
                relay.Dispose();
                throw;
            }
        }
    }

    /// <summary>Whether the grants (when there are any) give this device to this session's client identity.</summary>
    private bool Granted(Session session, UsbIpDeviceRecord device) =>
        _grants.Count == 0 || session.Identity is { } identity && _grants.Any(g => g.IsFor(identity) && g.Gives(device, SerialOf));

    /// <summary>The serial number a grant may match (busid checked before it gets here).</summary>
    private string? SerialOf(string busId) => _root.ReadText($"/sys/bus/usb/devices/{busId}/serial")?.Trim();

    private (UsbIpReplyStatus, ExportedDevice?) Decide(Session session, IPAddress peer, string busId)
    {
        // Checked where it enters: what goes on is a bus id, never a path, a newline or a second log line.
        if (UsbIpBusIdText.FindProblem(busId) is { } problem)
        {
            _log.Peer(peer, PeerEvent.ImportRefused, $"import of \"{ServerLog.Escape(busId)}\" refused: the bus id {problem}.");
            return (UsbIpReplyStatus.NoDevice, null);
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
        if (status != UsbIpReplyStatus.Ok) _log.Peer(peer, PeerEvent.ImportRefused, $"import of {busId} refused: {status}.");
        else if (!Granted(session, device!.Record))
        {
            // As the allow-list's refusals: the client hears "not available", the log says who was denied what.
            _log.Peer(peer, PeerEvent.GrantDenied, $"import of {busId} ({device.Record.VendorId:x4}:{device.Record.ProductId:x4}) denied to {session.Who}: no grant gives it this device.");
            status = UsbIpReplyStatus.NotAvailable;
        }
        return (status, device);
    }

    /// <summary>As usbipd: no Nagle delay on URB traffic. Keepalive is the hand-off's (its UsbIpDeadPeerPolicy).</summary>
    private static void PrepareForKernel(Socket socket) => socket.NoDelay = true;

    private static IPAddress? PeerOf(Socket socket)
    {
        try
        {
            var address = (socket.RemoteEndPoint as IPEndPoint)?.Address;
            return address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { return null; }
    }

    /// <summary>Whether bytes wait to be read: the client has started its request.</summary>
    private static bool HasReceived(Socket socket)
    {
        try
        {
            return socket.Available > 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { return false; }
    }

    /// <summary>Closes with a reset: the peer learns at once, and no TIME_WAIT state stays behind on this side.</summary>
    private static void CloseAtOnce(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        socket.Dispose();
    }

    /// <summary>Stops accepting, ends the requests in progress, and waits (briefly) for them.</summary>
    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        CloseListeners();
        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((ActiveConnections > 0 || Relays > 0) && waited.Elapsed < DrainTimeout) await Task.Delay(10).ConfigureAwait(false);
        await _sweepLoop.ConfigureAwait(false);
        _holders?.ReleaseAll();
        _log.Write($"stopped after {Connections} connections and {Imports} imports");
        _log.Dispose();
    }

    private void CloseListeners()
    {
        foreach (var listener in _listeners) listener.Dispose();
        _listeners.Clear();
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    public override string ToString() => $"USB/IP server on {string.Join(", ", Address)} port {TcpPort}";
}
