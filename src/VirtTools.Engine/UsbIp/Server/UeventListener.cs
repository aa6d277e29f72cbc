namespace VirtTools.UsbIp.Server;

/// <summary>
/// Listens to kernel uevents for as long as someone asks (<see cref="Listen"/>) and calls <c>changed</c> for each one
/// that may change the USB/IP device list, when uevents were lost, and when it starts or stops listening (what
/// happened while nobody listened is unknown). It closes its socket after <c>idleTimeout</c> without a
/// <see cref="Listen"/>, so a server that was stopped and forgotten leaves no socket behind. When the channel cannot be
/// opened it says so once through <c>log</c> and reports not listening from then on.
/// </summary>
public sealed class UeventListener : IDisposable
{
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(60);

    private readonly Func<IUeventChannel> _open;
    private readonly Action _changed;
    private readonly Action<string>? _log;
    private readonly TimeSpan _idleTimeout;
    private readonly object _gate = new();
    private readonly CancellationTokenSource _disposed = new();
    private IUeventChannel? _channel;
    private volatile bool _listening, _unavailable;
    private long _lastAsked, _received;

    public UeventListener(Func<IUeventChannel> open, Action changed, Action<string>? log = null, TimeSpan? idleTimeout = null)
    {
        _open = open;
        _changed = changed;
        _log = log;
        _idleTimeout = idleTimeout ?? DefaultIdleTimeout;
    }

    /// <summary>Datagrams received since the start, ignored ones included.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>
    /// Whether uevents are being listened to now, starting the listener when it is not (and the channel can be had).
    /// Cheap when it is already listening: one timestamp and one flag.
    /// </summary>
    public bool Listen()
    {
        Volatile.Write(ref _lastAsked, Environment.TickCount64);
        if (_listening) return true;
        if (_unavailable || _disposed.IsCancellationRequested) return false;
        lock (_gate)
        {
            if (_listening) return true;
            if (_unavailable || _disposed.IsCancellationRequested) return false;
            try
            {
                _channel = _open();
            }
            catch (Exception e)
            {
                _unavailable = true;
                _log?.Invoke($"kernel uevents cannot be listened to ({e.Message}); the device list is read again at least every second instead.");
                return false;
            }
            _listening = true;
            // Open first, then say "changed": whatever happened before the socket existed is read afresh after it.
            _changed();
            _ = RunAsync(_channel);
            return true;
        }
    }

    private async Task RunAsync(IUeventChannel channel)
    {
        var buffer = new byte[Uevent.MaxDatagramBytes + 1];
        // Wake up now and then to see whether anyone still asks.
        var idleCheck = TimeSpan.FromTicks(Math.Max(_idleTimeout.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks));
        try
        {
            while (true)
            {
                int length;
                using (var slice = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token))
                {
                    slice.CancelAfter(idleCheck);
                    try
                    {
                        length = await channel.ReceiveAsync(buffer, slice.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!_disposed.IsCancellationRequested)
                    {
                        if (IsIdle()) return;
                        continue;
                    }
                }
                Interlocked.Increment(ref _received);
                if (length == UeventChannel.Overflow) _changed();
                else if (Uevent.TryParse(buffer.AsSpan(0, length), out var uevent) && uevent!.IsUsbRelated) _changed();
            }
        }
        catch (OperationCanceledException) { /* disposed */ }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException or IOException)
        {
            // Not retried: a socket that fails once would fail on every request and fill the log.
            _unavailable = true;
            if (!_disposed.IsCancellationRequested) _log?.Invoke($"kernel uevents stopped arriving ({e.Message}); the device list is read again at least every second instead.");
        }
        finally
        {
            Stop(channel);
        }
    }

    private bool IsIdle() => Environment.TickCount64 - Volatile.Read(ref _lastAsked) >= _idleTimeout.TotalMilliseconds;

    private void Stop(IUeventChannel channel)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_channel, channel))
            {
                _listening = false;
                _channel = null;
            }
        }
        channel.Dispose();
        // A reader that saw "listening" a moment ago holds a list that was current then; later ones read afresh.
        _changed();
    }

    public void Dispose()
    {
        if (_disposed.IsCancellationRequested) return;
        _disposed.Cancel();
        lock (_gate)
        {
            _listening = false;
            _channel?.Dispose();
        }
    }
}
