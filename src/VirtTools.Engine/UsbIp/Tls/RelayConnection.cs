using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;

namespace VirtTools.UsbIp.Tls;

/// <summary>
/// The TCP connection of a TLS session that may become a relayed import, and the <see cref="SslStream"/> over it
/// (<see cref="Tls"/>). Until a relay takes it over, it is a plain <see cref="NetworkStream"/>: the handshake, the
/// request and the reply are asynchronous and cancellable. <see cref="StartRelaying"/> makes the relay's reads and
/// writes direct system calls on a blocking descriptor that no epoll set watches: through .NET's socket engine each
/// arrival of data also woke its epoll thread and a pool thread, which in the TCG lab cost as much CPU as the relay's
/// own work. While relaying, the records of one relayed write are held and leave in one send (<see cref="Hold"/>,
/// <see cref="SendHeld"/>), so the peer's relay wakes once for them, not once per 16 KiB record; and a read inside a
/// record's body waits in the kernel for the rest of it (<see cref="TlsRecordFraming"/>), so this relay wakes once per
/// record, not once per TCP segment.
/// </summary>
internal sealed class RelayConnection : Stream
{
    /// <summary>The most the records of one relayed write take: its plaintext plus each record's header, type and tag.</summary>
    private const int HeldCapacity = UsbIpRelay.BufferSize + 1024;

    private readonly NetworkStream _stream;
    private readonly object _sending = new();
    private byte[]? _held;
    private int _heldLength;
    private bool _holding;
    private volatile bool _relaying;
    // Followed from the connection's first byte (the server only peeks at it), as SslStream may read ahead of a record.
    private readonly TlsRecordFraming _framing = new();

    public RelayConnection(Socket socket, bool ownsSocket)
    {
        Socket = socket;
        _stream = new NetworkStream(socket, ownsSocket);
        Tls = new SslStream(this, leaveInnerStreamOpen: false);
    }

    public Socket Socket { get; }

    /// <summary>The TLS session on this connection; disposing it disposes the connection.</summary>
    public SslStream Tls { get; }

    private int Descriptor => (int)Socket.SafeHandle.DangerousGetHandle();

    /// <summary>
    /// The receive calls of the relay's reads that brought bytes: one or two per record (its header with whatever came
    /// along, then the rest of its body).
    /// </summary>
    public long Receives { get; private set; }

    /// <summary>Whether bytes are waiting in the kernel, so a read would not wait for the peer.</summary>
    public bool HasUnreadBytes => Socket.Available > 0;

    /// <summary>
    /// From here on only the relay's two pumps use the connection, with blocking reads and writes. Should the descriptor
    /// stay non-blocking (fcntl refused), reads and writes go through .NET as before.
    /// </summary>
    public void StartRelaying()
    {
        if (!DirectSocketCalls.TryMakeBlocking(Descriptor)) return;
        ProcessEpollSets.Remove(Descriptor);
        _held = ArrayPool<byte>.Shared.Rent(HeldCapacity);
        _relaying = true;
    }

    /// <summary>Holds what TLS writes until <see cref="SendHeld"/>: the records of one relayed write go out together.</summary>
    public void Hold()
    {
        lock (_sending) _holding = _relaying;
    }

    public void SendHeld()
    {
        lock (_sending)
        {
            _holding = false;
            SendHeldLocked();
        }
    }

    /// <summary>Shuts both directions down: a pump blocked reading either socket wakes to an end of stream.</summary>
    public void Shutdown()
    {
        try { Socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (!_relaying) return Followed(buffer, _stream.Read(buffer));
        // Inside a body SslStream can do nothing until the rest is in, and the peer sent it with the header.
        var bodyLeft = _framing.BodyLeft(buffer.Length);
        var count = bodyLeft > 0 ? DirectSocketCalls.ReceiveAll(Descriptor, buffer[..bodyLeft]) : DirectSocketCalls.Receive(Descriptor, buffer);
        if (count > 0) Receives++;
        return Followed(buffer, count);
    }

    private int Followed(ReadOnlySpan<byte> buffer, int count)
    {
        _framing.Consumed(buffer[..count]);
        return count;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (!_relaying)
        {
            _stream.Write(buffer);
            return;
        }
        // A write from the reading pump (a TLS alert) while records are held joins them: the wire keeps TLS's order.
        lock (_sending)
        {
            if (_held is null) throw new ObjectDisposedException(nameof(RelayConnection));
            if (!_holding)
            {
                DirectSocketCalls.SendAll(Descriptor, buffer);
                return;
            }
            if (_heldLength + buffer.Length > HeldCapacity) SendHeldLocked();
            if (buffer.Length > HeldCapacity) DirectSocketCalls.SendAll(Descriptor, buffer);
            else
            {
                buffer.CopyTo(_held.AsSpan(_heldLength));
                _heldLength += buffer.Length;
            }
        }
    }

    private void SendHeldLocked()
    {
        if (_heldLength == 0 || _held is null) return;
        var length = _heldLength;
        _heldLength = 0;
        DirectSocketCalls.SendAll(Descriptor, _held.AsSpan(0, length));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellation) => ReadAsync(buffer.AsMemory(offset, count), cancellation).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellation = default)
    {
        var count = await _stream.ReadAsync(buffer, cancellation).ConfigureAwait(false);
        return Followed(buffer.Span, count);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellation) => _stream.WriteAsync(buffer, offset, count, cancellation);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellation = default) => _stream.WriteAsync(buffer, cancellation);

    public override void Flush() { }

    public override Task FlushAsync(CancellationToken cancellation) => Task.CompletedTask;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stream.Dispose();
            lock (_sending)
            {
                if (_held is { } held) ArrayPool<byte>.Shared.Return(held);
                _held = null;
                _relaying = false;
            }
        }
        base.Dispose(disposing);
    }
}
