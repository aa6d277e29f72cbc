using System.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.UsbIp.Host;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// The devices bound to usbip-host, read from sysfs once and kept until something may have changed them, so a burst
/// of device lists costs one reading, not one each. What ends a reading:
/// <list type="bullet">
/// <item>on the live root, a kernel uevent about the usb bus, usbip-host or its modules (<see cref="UeventListener"/>):
/// add, remove, bind, unbind, change;</item>
/// <item>under -Root, where the kernel says nothing about the tree, and where uevents cannot be had: any change in the
/// list of devices bound to usbip-host (one directory listing per request);</item>
/// <item>in every case, age: a reading older than <see cref="DefaultMaxAge"/> is read again, in case a uevent was lost
/// or an attribute changed without one (while one request reads it again, the others are answered from the old
/// reading rather than queue: it is old, not known to be wrong).</item>
/// </list>
/// usbip_status is read anew for every request (one small file per exported device): an import or a client going away
/// changes it 1 → 2 → 1 and the kernel sends no uevent for that, and a device in use must never be offered.
/// </summary>
public sealed class CachedExportedDeviceSource : IExportedDeviceSource, IDisposable
{
    public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromSeconds(1);

    private readonly SysfsExportedDeviceSource _sysfs;
    private readonly UeventListener? _uevents;
    private readonly long _maxAgeTicks;
    private readonly object _refill = new();
    private long _generation;
    private Reading? _reading;

    /// <param name="sysfs">The reader whose result is kept.</param>
    /// <param name="uevents">Where uevents come from; null where there are none for this tree (-Root).</param>
    /// <param name="maxAge">The longest a reading is kept whatever else happens.</param>
    /// <param name="log">Told once when uevents cannot be listened to.</param>
    /// <param name="idleTimeout">How long the uevent socket stays open without a request.</param>
    public CachedExportedDeviceSource(SysfsExportedDeviceSource sysfs, Func<IUeventChannel>? uevents, TimeSpan? maxAge = null,
        Action<string>? log = null, TimeSpan? idleTimeout = null)
    {
        _sysfs = sysfs;
        _maxAgeTicks = (long)((maxAge ?? DefaultMaxAge).TotalSeconds * Stopwatch.Frequency);
        if (uevents is not null) _uevents = new UeventListener(uevents, Invalidate, log, idleTimeout);
    }

    /// <summary>The source a server uses: uevents from the kernel on the live root, none for a tree under -Root.</summary>
    public static CachedExportedDeviceSource For(SystemRoot root, Action<string>? log = null) =>
        new(new SysfsExportedDeviceSource(root), root.IsLive ? NetlinkUeventChannel.Open : null, log: log);

    public SystemRoot Root => _sysfs.Root;

    /// <summary>Whether kernel uevents are being listened to right now (starting to, if they can be).</summary>
    public bool IsListening => _uevents?.Listen() ?? false;

    /// <summary>Forgets the reading kept: the next request reads sysfs again.</summary>
    public void Invalidate() => Interlocked.Increment(ref _generation);

    public IReadOnlyList<ExportedDevice> ReadExportedDevices()
    {
        var devices = Current().Devices;
        var result = new List<ExportedDevice>(devices.Count);
        foreach (var device in devices)
            result.Add(device.Device with { Status = UsbIpHostReader.ReadStatus(device.Directory) });
        return result;
    }

    private Reading Current()
    {
        var listening = IsListening;
        // Without uevents the bound list is looked at each time: binding and unbinding are what a user of a tree does.
        var bound = listening ? null : _sysfs.BoundBusIds();
        var reading = Volatile.Read(ref _reading);
        if (IsValid(reading, bound))
        {
            if (!IsOld(reading!)) return reading!;
            // Only old, not known to be wrong: one request reads again, the others keep being answered meanwhile
            // instead of queueing behind it.
            if (!Monitor.TryEnter(_refill)) return reading!;
            try { return Refill(bound); }
            finally { Monitor.Exit(_refill); }
        }
        lock (_refill)
        {
            // Another request may have read it while this one waited.
            reading = _reading;
            return IsValid(reading, bound) && !IsOld(reading!) ? reading! : Refill(bound);
        }
    }

    /// <summary>Reads sysfs again; called holding <see cref="_refill"/>.</summary>
    private Reading Refill(IReadOnlyList<string>? bound)
    {
        // The generation is taken before sysfs is read: a uevent that arrives during the read makes the next request
        // read again.
        var generation = Interlocked.Read(ref _generation);
        bound ??= _sysfs.BoundBusIds();
        var reading = new Reading(_sysfs.Read(bound), bound, generation, Stopwatch.GetTimestamp());
        Volatile.Write(ref _reading, reading);
        return reading;
    }

    /// <summary>Nothing said it changed: no uevent since it was read and (without uevents) the same devices bound.</summary>
    private bool IsValid(Reading? reading, IReadOnlyList<string>? boundNow) =>
        reading is not null
        && reading.Generation == Interlocked.Read(ref _generation)
        && (boundNow is null || reading.Bound.SequenceEqual(boundNow, StringComparer.Ordinal));

    private bool IsOld(Reading reading) => Stopwatch.GetTimestamp() - reading.ReadAt >= _maxAgeTicks;

    public void Dispose() => _uevents?.Dispose();

    private sealed record Reading(IReadOnlyList<ExportedDeviceReading> Devices, IReadOnlyList<string> Bound, long Generation, long ReadAt);
}
