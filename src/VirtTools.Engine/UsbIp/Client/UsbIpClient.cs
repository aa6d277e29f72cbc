using VirtTools.Usb;
using System.Net;
using System.Net.Sockets;
using VirtTools.Diagnostics;
using VirtTools.Ids;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Tls;

namespace VirtTools.UsbIp.Client;

/// <summary>
/// The client side of the management phase: ask a server for its device list, or for a device. With TLS settings the
/// request goes over TLS (the server must be trusted first); without, plain USB/IP as <c>usbip</c> sends it.
/// </summary>
public static class UsbIpClient
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// OP_REQ_DEVLIST to host:port. A reply whose framing cannot be trusted (another version or operation, a count
    /// past the protocol's limits, a truncated record) fails as a whole; a record that is framed right but carries
    /// a value that cannot be used is left out and reported in <see cref="UsbIpDeviceList{T}.Refused"/>.
    /// </summary>
    public static Task<UsbIpDeviceList<UsbIpDeviceRecord>> ListDevicesAsync(string computerName, int tcpPort, TimeSpan timeout,
        CancellationToken cancellation = default, UsbIpTlsClientSettings? tls = null) =>
        WithDeadlineAsync(computerName, tcpPort, timeout, cancellation, tls, async deadline =>
        {
            var credentials = LoadCredentials(tls);
            using var connection = await ConnectAsync(computerName, tcpPort, deadline).ConfigureAwait(false);
            await using var socket = (await OpenAsync(connection, computerName, tcpPort, credentials, deadline).ConfigureAwait(false)).Stream;
            var request = new byte[UsbIpProtocol.OpCommonSize];
            UsbIpManagementCodec.WriteDeviceListRequest(request);
            await socket.WriteAsync(request, deadline).ConfigureAwait(false);

            var header = new byte[UsbIpManagementCodec.DeviceListReplyHeaderSize];
            await ReceiveReplyAsync(socket, header, "device list reply", deadline).ConfigureAwait(false);
            var op = UsbIpManagementCodec.ReadOpCommon(header.AsSpan(0, UsbIpProtocol.OpCommonSize), UsbIpOperation.ReplyDeviceList);
            if (op.Status != UsbIpReplyStatus.Ok) throw UsbIpReplyStatusMessages.ToFailure(op.Status, Describe(computerName, tcpPort), null);
            var count = UsbIpManagementCodec.ReadDeviceCount(header.AsSpan(UsbIpProtocol.OpCommonSize));

            // The lists grow as records arrive: a count alone never sizes an allocation. Whatever follows the
            // last announced record is never read, so a server that keeps sending costs nothing more.
            var devices = new List<UsbIpDeviceRecord>();
            var refused = new List<UsbIpRefusedDevice>();
            var record = new byte[UsbIpProtocol.DeviceRecordSize];
            var interfaceBytes = new byte[UsbIpProtocol.InterfaceRecordSize * UsbIpProtocol.MaxInterfaces];
            for (var i = 0; i < count; i++)
            {
                await socket.ReceiveExactlyAsync(record, "device record", deadline).ConfigureAwait(false);
                var device = UsbIpManagementCodec.ReadDevice(record);
                var interfaces = new UsbIpInterfaceRecord[device.NumInterfaces];
                var block = interfaceBytes.AsMemory(0, interfaces.Length * UsbIpProtocol.InterfaceRecordSize);
                await socket.ReceiveExactlyAsync(block, "interface records", deadline).ConfigureAwait(false);
                for (var j = 0; j < interfaces.Length; j++)
                    interfaces[j] = UsbIpManagementCodec.ReadInterface(block.Span.Slice(j * UsbIpProtocol.InterfaceRecordSize, UsbIpProtocol.InterfaceRecordSize));
                device = UsbIpManagementCodec.WithInterfaces(device, interfaces);
                if (UsbIpDeviceRecordCheck.FindProblem(device) is { } problem)
                    refused.Add(new UsbIpRefusedDevice(device, new UsbIpProtocolException(UsbIpProtocolException.InvalidDevice,
                        $"The USB/IP server {Describe(computerName, tcpPort)} listed a device that was left out (record {i + 1} of {count}, {device.VendorId:x4}:{device.ProductId:x4}): {problem}.",
                        computerName)));
                else
                    devices.Add(device);
            }
            return new UsbIpDeviceList<UsbIpDeviceRecord>(devices, refused);
        });

    /// <summary>
    /// OP_REQ_IMPORT of one busid, as <c>usbip attach</c> asks: on success the server has handed its end to its
    /// kernel, and the returned import holds this end, open, for vhci_hcd to take. A refusal is the status's own
    /// failure (UsbIpDeviceBusy...); a reply about another busid is refused as usbip refuses it, and so is a device
    /// record that vhci_hcd could not be given (see <see cref="UsbIpDeviceRecordCheck"/>). A bus id that is not one
    /// is UsbIpInvalidBusId before anything is sent.
    /// </summary>
    public static Task<IUsbIpImport> ImportAsync(string computerName, int tcpPort, string busId, TimeSpan timeout,
        CancellationToken cancellation = default, UsbIpTlsClientSettings? tls = null)
    {
        if (UsbIpBusIdText.FindProblem(busId) is { } invalid) return Task.FromException<IUsbIpImport>(UsbIpErrors.InvalidBusId(busId, invalid));
        return WithDeadlineAsync<IUsbIpImport>(computerName, tcpPort, timeout, cancellation, tls, async deadline =>
        {
            var request = new byte[UsbIpManagementCodec.ImportRequestSize];
            UsbIpManagementCodec.WriteImportRequest(request, busId);
            var credentials = LoadCredentials(tls);
            var connection = await ConnectAsync(computerName, tcpPort, deadline).ConfigureAwait(false);
            Stream? socket = null;
            try
            {
                (socket, var relayed) = await OpenAsync(connection, computerName, tcpPort, credentials, deadline).ConfigureAwait(false);
                await socket.WriteAsync(request, deadline).ConfigureAwait(false);
                var reply = new byte[UsbIpManagementCodec.ImportReplySize];
                var header = reply.AsMemory(0, UsbIpProtocol.OpCommonSize);
                await ReceiveReplyAsync(socket, header, "import reply", deadline).ConfigureAwait(false);
                var op = UsbIpManagementCodec.ReadOpCommon(header.Span, UsbIpOperation.ReplyImport);
                if (op.Status != UsbIpReplyStatus.Ok) throw UsbIpReplyStatusMessages.ToFailure(op.Status, Describe(computerName, tcpPort), busId);
                var body = reply.AsMemory(UsbIpProtocol.OpCommonSize);
                await socket.ReceiveExactlyAsync(body, "imported device record", deadline).ConfigureAwait(false);
                var device = UsbIpManagementCodec.ReadDevice(body.Span);
                if (UsbIpDeviceRecordCheck.FindProblem(device) is { } problem)
                    throw new UsbIpProtocolException(UsbIpProtocolException.InvalidDevice,
                        $"The device it returned for the import of {busId} cannot be attached: {problem}.");
                if (device.BusId != busId) // checked above: a bus id, safe to show as it is
                    throw new UsbIpProtocolException(UsbIpProtocolException.Unexpected,
                        $"The import of {busId} was answered with device {device.BusId}.");
                return relayed is null ? new UsbIpSocketImport(connection, device)
                    : new RelayedImport(relayed, device, $"{Describe(computerName, tcpPort)} {busId}");
            }
            catch
            {
                socket?.Dispose();
                connection.Dispose();
                throw;
            }
        });
    }

    /// <summary>
    /// The first bytes of a reply. Under TLS 1.3 the client's side of the handshake is done before the server has
    /// judged the client's certificate, so a server that refuses it can only end the session here: that is said as a
    /// TLS failure, not as a truncated or lost reply.
    /// </summary>
    private static async ValueTask ReceiveReplyAsync(Stream stream, Memory<byte> header, string what, CancellationToken deadline)
    {
        if (stream is not System.Net.Security.SslStream)
        {
            await stream.ReceiveExactlyAsync(header, what, deadline).ConfigureAwait(false);
            return;
        }
        int first;
        try
        {
            first = await stream.ReadAsync(header[..1], deadline).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new System.Security.Authentication.AuthenticationException(SessionEnded, e);
        }
        if (first == 0) throw new System.Security.Authentication.AuthenticationException(SessionEnded);
        await stream.ReceiveExactlyAsync(header[1..], what, deadline).ConfigureAwait(false);
    }

    private const string SessionEnded =
        "the server closed it without answering, most likely because it refused this client's certificate (none given, not signed by its --client-ca, or expired)";

    /// <summary>Read before connecting, so a certificate file that cannot be used fails before anything reaches the network.</summary>
    private static UsbIpTlsClientCredentials? LoadCredentials(UsbIpTlsClientSettings? tls) => tls is null ? null : UsbIpTlsClientCredentials.Load(tls);

    /// <summary>
    /// The stream the protocol runs on: the socket itself (whose owner stays the caller), or TLS over it, with the
    /// connection a relay takes over if the request is an import.
    /// </summary>
    private static async Task<(Stream Stream, RelayConnection? Relayed)> OpenAsync(Socket socket, string computerName, int tcpPort,
        UsbIpTlsClientCredentials? credentials, CancellationToken deadline)
    {
        if (credentials is null) return (new NetworkStream(socket, ownsSocket: false), null);
        var relayed = await UsbIpTlsConnector.AuthenticateAsync(socket, computerName, Describe(computerName, tcpPort), credentials, deadline).ConfigureAwait(false);
        return (relayed.Tls, relayed);
    }

    /// <summary>The real importer: TCP to the server, as <see cref="ImportAsync"/>.</summary>
    public static IUsbIpImporter Importer { get; } = new TcpImporter(null);

    /// <summary>The real importer over TLS with these settings (plain TCP when null).</summary>
    public static IUsbIpImporter ImporterWith(UsbIpTlsClientSettings? tls) => tls is null ? Importer : new TcpImporter(tls);

    /// <summary>
    /// Runs one request under a deadline, and is the one place a server's failings become the client's errors:
    /// running out of time is UsbIpServerTimeout (Ctrl+C stays a cancellation), a broken connection
    /// UsbIpConnectionLost, and every protocol error names the server that sent what was refused.
    /// </summary>
    private static async Task<T> WithDeadlineAsync<T>(string computerName, int tcpPort, TimeSpan timeout, CancellationToken cancellation,
        UsbIpTlsClientSettings? tls, Func<CancellationToken, Task<T>> request)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            return await request(deadline.Token).ConfigureAwait(false);
        }
        catch (UsbIpProtocolException refused)
        {
            throw new UsbIpProtocolException(refused.ErrorId, $"USB/IP server {Describe(computerName, tcpPort)}: {refused.Message}", computerName);
        }
        catch (SocketException broken)
        {
            throw UsbIpErrors.ConnectionLost(Describe(computerName, tcpPort), computerName, broken);
        }
        catch (IOException broken) when (broken.InnerException is SocketException socket)
        {
            // A stream's way of saying the socket broke.
            throw UsbIpErrors.ConnectionLost(Describe(computerName, tcpPort), computerName, socket);
        }
        catch (Exception broken) when (broken is IOException or System.Security.Authentication.AuthenticationException)
        {
            // Only TLS fails so: under TLS 1.3 a server that refuses the client's certificate says so after the
            // client's side of the handshake is done, as the first thing the client reads.
            throw UsbIpErrors.TlsHandshakeFailed(Describe(computerName, tcpPort), computerName, broken, tls?.Names ?? UsbIpTlsClientNames.Parameters);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new VirtToolsException(UsbIpErrors.ServerTimeoutId, FailureKind.Timeout,
                $"The USB/IP server {Describe(computerName, tcpPort)} did not answer within {timeout.TotalSeconds:0.#} seconds.",
                "Check that the address is right and reachable (a firewall that drops packets looks like this), or give -TimeoutSec more time.",
                computerName);
        }
    }

    /// <summary>The device list as objects, with vendor, product and class names from usb.ids when one is installed.</summary>
    public static async Task<UsbIpDeviceList<UsbIpRemoteDevice>> GetDevicesAsync(string computerName, int tcpPort, TimeSpan timeout,
        IdsDatabase? names, CancellationToken cancellation = default, UsbIpTlsClientSettings? tls = null)
    {
        var records = await ListDevicesAsync(computerName, tcpPort, timeout, cancellation, tls).ConfigureAwait(false);
        return records.ConvertAll(r => ToRemoteDevice(r, computerName, tcpPort, names));
    }

    public static UsbIpRemoteDevice ToRemoteDevice(UsbIpDeviceRecord record, string computerName, int tcpPort, IdsDatabase? names) => new()
    {
        ComputerName = computerName,
        TcpPort = tcpPort,
        BusId = UsbBusId.Parse(record.BusId), // only records UsbIpDeviceRecordCheck passed reach here
        Path = record.Path,
        BusNumber = (int)record.BusNumber,
        DeviceNumber = (int)record.DeviceNumber,
        DeviceId = record.DeviceId,
        Speed = record.Speed,
        SpeedMbps = UsbSpeeds.ToMbps(record.Speed),
        UsbId = new UsbId(record.VendorId, record.ProductId),
        VendorName = names?.VendorName(record.VendorId),
        ProductName = names?.DeviceName(record.VendorId, record.ProductId),
        DeviceClass = record.DeviceClass.ToString("x2"),
        DeviceClassName = record.DeviceClass == 0 ? null : names?.ClassName(record.DeviceClass, record.DeviceSubClass, record.DeviceProtocol),
        ConfigurationValue = record.ConfigurationValue,
        NumConfigurations = record.NumConfigurations,
        Interfaces = record.Interfaces.Select((i, n) => new UsbIpRemoteInterface(n, i.Class.ToString("x2"), i.SubClass.ToString("x2"),
            i.Protocol.ToString("x2"), names?.ClassName(i.Class, i.SubClass, i.Protocol))).ToList(),
    };

    private static async Task<Socket> ConnectAsync(string computerName, int tcpPort, CancellationToken cancellation)
    {
        var literal = IPAddress.TryParse(computerName, out var address);
        var socket = literal
            ? new Socket(address!.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp); // dual-mode: tries every address the name resolves to
        socket.NoDelay = true;
        try
        {
            if (literal) await socket.ConnectAsync(new IPEndPoint(address!, tcpPort), cancellation).ConfigureAwait(false);
            else await socket.ConnectAsync(computerName, tcpPort, cancellation).ConfigureAwait(false);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw Unreachable(computerName, tcpPort, e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static VirtToolsException Unreachable(string computerName, int tcpPort, SocketException e)
    {
        var server = Describe(computerName, tcpPort);
        var (message, action) = e.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => ($"Nothing accepts USB/IP connections on {server}: the connection was refused.",
                $"Check that a USB/IP server runs there (usbipd, or virttools usbipd / Start-UsbIpServer) on TCP port {tcpPort}, and that no firewall rejects the port."),
            SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => ($"The name '{computerName}' cannot be resolved.",
                "Check the spelling of -ComputerName, or give an IP address."),
            SocketError.NetworkUnreachable or SocketError.HostUnreachable => ($"{server} cannot be reached from this host: {e.Message}.",
                "Check the route to the server (ip route get <address>)."),
            _ => ($"Cannot connect to {server}: {e.Message}.", $"Check that {computerName} is up and TCP port {tcpPort} is open."),
        };
        return new VirtToolsException(UsbIpErrors.ServerUnreachableId, FailureKind.ConnectionError, message, action, computerName, e);
    }

    private sealed class TcpImporter(UsbIpTlsClientSettings? tls) : IUsbIpImporter
    {
        public Task<IUsbIpImport> ImportAsync(string computerName, int tcpPort, string busId, TimeSpan timeout, CancellationToken cancellation) =>
            UsbIpClient.ImportAsync(computerName, tcpPort, busId, timeout, cancellation, tls);
    }

    /// <summary>"host:port", with brackets around an IPv6 address.</summary>
    public static string Describe(string computerName, int tcpPort) =>
        computerName.Contains(':') ? $"[{computerName}]:{tcpPort}" : $"{computerName}:{tcpPort}";
}
