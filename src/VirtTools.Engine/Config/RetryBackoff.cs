namespace VirtTools.Config;

/// <summary>
/// Bounded exponential backoff per item: after the n-th failure in a row an item waits
/// min(<see cref="First"/> × 2^(n-1), <see cref="Limit"/>) before it is tried again; a success forgets it. A server
/// that is down is then asked about once a minute, not hammered, and one that comes back is seen within a minute.
/// </summary>
public sealed class RetryBackoff
{
    private readonly Dictionary<string, (int Failures, DateTimeOffset NotBefore)> _items = new(StringComparer.Ordinal);

    public TimeSpan First { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan Limit { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Whether <paramref name="item"/> may be tried at <paramref name="now"/>.</summary>
    public bool IsDue(string item, DateTimeOffset now) => !_items.TryGetValue(item, out var state) || now >= state.NotBefore;

    /// <summary>Records a failure and returns how long the item now waits.</summary>
    public TimeSpan Failed(string item, DateTimeOffset now)
    {
        var failures = _items.TryGetValue(item, out var state) ? state.Failures + 1 : 1;
        var delay = Delay(failures);
        _items[item] = (failures, now + delay);
        return delay;
    }

    public void Succeeded(string item) => _items.Remove(item);

    /// <summary>Failures in a row so far (0 when the item is not backing off).</summary>
    public int FailuresOf(string item) => _items.TryGetValue(item, out var state) ? state.Failures : 0;

    private TimeSpan Delay(int failures)
    {
        var doublings = Math.Min(failures - 1, 30); // 2^30 seconds is far past any limit; no overflow
        var ticks = First.Ticks * (1L << doublings);
        return ticks <= 0 || ticks > Limit.Ticks ? Limit : TimeSpan.FromTicks(ticks);
    }
}
