using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// A fake USB/IP server on 127.0.0.1 that answers as a test scripts it: on every connection it reads the request
/// (op_common, and the bus id of an import), notes it, then runs <see cref="Reply"/> on the socket and closes it.
/// Every field a client reads can be made wrong this way; nothing here checks anything.
/// </summary>
internal sealed class HostileServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private int _connections;

    public HostileServer(Func<Socket, CancellationToken, Task> reply)
    {
        Reply = reply;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _accepting = AcceptAsync();
    }

    /// <summary>What the server does after reading a request; tests may change it between requests.</summary>
    public Func<Socket, CancellationToken, Task> Reply { get; set; }

    public int Port { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The operation of every request read, in order.</summary>
    public ConcurrentQueue<UsbIpOperation> Requests { get; } = new();

    /// <summary>The bus id field of every import request, as sent.</summary>
    public ConcurrentQueue<string> ImportedBusIds { get; } = new();

    /// <summary>Sends <paramref name="bytes"/>, then closes.</summary>
    public static Func<Socket, CancellationToken, Task> Sends(byte[] bytes) =>
        async (socket, cancellation) => await socket.SendAsync(bytes, SocketFlags.None, cancellation);

    /// <summary>Sends nothing and keeps the connection open until the client gives up.</summary>
    public static Func<Socket, CancellationToken, Task> NeverAnswers() =>
        async (socket, cancellation) => await socket.ReceiveAsync(new byte[1], SocketFlags.None, cancellation);

    /// <summary>Sends <paramref name="prefix"/>, then <paramref name="chunk"/> again and again until the client closes.</summary>
    public static Func<Socket, CancellationToken, Task> SendsForever(byte[] prefix, byte[] chunk, TimeSpan pause = default) =>
        async (socket, cancellation) =>
        {
            await socket.SendAsync(prefix, SocketFlags.None, cancellation);
            while (!cancellation.IsCancellationRequested)
            {
                await socket.SendAsync(chunk, SocketFlags.None, cancellation);
                if (pause > TimeSpan.Zero) await Task.Delay(pause, cancellation);
            }
        };

    /// <summary>Sends <paramref name="prefix"/>, then resets the connection (RST, not FIN).</summary>
    public static Func<Socket, CancellationToken, Task> Resets(byte[] prefix) =>
        async (socket, cancellation) =>
        {
            await socket.SendAsync(prefix, SocketFlags.None, cancellation);
            socket.LingerState = new LingerOption(true, 0);
        };

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stopping.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            Interlocked.Increment(ref _connections);
            _ = ConverseAsync(client);
        }
    }

    private async Task ConverseAsync(Socket client)
    {
        using (client)
        {
            try
            {
                var header = new byte[UsbIpProtocol.OpCommonSize];
                if (!await ReceiveAsync(client, header)) return;
                var operation = (UsbIpOperation)BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
                Requests.Enqueue(operation);
                if (operation == UsbIpOperation.RequestImport)
                {
                    var busId = new byte[UsbIpProtocol.BusIdFieldSize];
                    if (!await ReceiveAsync(client, busId)) return;
                    ImportedBusIds.Enqueue(System.Text.Encoding.Latin1.GetString(busId).TrimEnd('\0'));
                }
                await Reply(client, _stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The client hung up, or the test is over.
            }
        }
    }

    private async Task<bool> ReceiveAsync(Socket client, byte[] buffer)
    {
        var received = 0;
        while (received < buffer.Length)
        {
            var n = await client.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, _stopping.Token);
            if (n == 0) return false;
            received += n;
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Dispose();
        await _accepting;
        _stopping.Dispose();
    }
}
