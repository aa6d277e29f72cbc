using System.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Host;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// The devices bound to usbip-host, read from sysfs once and kept until something may have changed them, so a burst
/// of device lists costs one reading, not one each. What ends a reading:
/// <list type="bullet">
/// <item>on the live root, a kernel uevent about the usb bus, usbip-host or its modules (<see cref="UeventListener"/>):
/// add, remove, bind, unbind, change;</item>
/// <item>under -Root, where the kernel says nothing about the tree: anything written in the usbip-host driver folder or
/// in an exported device's own folder (binding, unbinding, usbip_status, the device's attributes), seen through a
/// <see cref="TreeChangeWatch"/> by the first request that begins after the write;</item>
/// <item>where neither can be had (no uevents, or a folder that cannot be watched): any change in the list of devices
/// bound to usbip-host (one directory listing per request);</item>
/// <item>in every case, age: a reading older than <see cref="DefaultMaxAge"/> is read again, in case a uevent was lost
/// or an attribute changed without one (while one request reads it again, the others are answered from the old
/// reading rather than queue: it is old, not known to be wrong).</item>
/// </list>
/// Except under a watch, which sees it written, usbip_status is read anew for every request (one small file per
/// exported device): on the live root an import or a client going away changes it 1 → 2 → 1 and the kernel sends no
/// uevent for that, and a device in use must never be offered.
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
        var reading = Current();
        // A watched reading was just read or found unchanged by this request, usbip_status included.
        if (reading.Watch is not null) return reading.AsRead;
        var result = new List<ExportedDevice>(reading.Devices.Count);
        foreach (var device in reading.Devices)
            result.Add(device.Device with { Status = UsbDeviceDrivers.ReadUsbIpStatus(device.Directory) });
        return result;
    }

    private Reading Current()
    {
        var listening = IsListening;
        var reading = Volatile.Read(ref _reading);
        if (IsValid(reading, listening))
        {
            if (!IsOld(reading!)) return reading!;
            // Only old, not known to be wrong: one request reads again, the others keep being answered meanwhile
            // instead of queueing behind it.
            if (!Monitor.TryEnter(_refill)) return reading!;
            try { return Refill(listening); }
            finally { Monitor.Exit(_refill); }
        }
        lock (_refill)
        {
            // Another request may have read it while this one waited.
            reading = _reading;
            return IsValid(reading, listening) && !IsOld(reading!) ? reading! : Refill(listening);
        }
    }

    /// <summary>
    /// Reads sysfs again; under -Root without uevents, with a new watch of the folders read, set up before each is read
    /// so that a write while it is read makes the next request read again (as the generation does for a uevent). Never
    /// on the live root, where the kernel's own changes send no inotify event. Called holding <see cref="_refill"/>.
    /// </summary>
    private Reading Refill(bool listening)
    {
        // The generation is taken before sysfs is read: a uevent that arrives during the read makes the next request
        // read again.
        var generation = Interlocked.Read(ref _generation);
        var watch = listening || _sysfs.Root.IsLive ? null : TreeChangeWatch.Open();
        watch?.Add(_sysfs.Root.Resolve(UsbIpHostReader.DriverPath));
        var bound = _sysfs.BoundBusIds();
        var devices = _sysfs.Read(bound);
        if (watch is not null)
        {
            foreach (var device in devices) watch.Add(device.Directory.Path);
            devices = devices.Select(d => d with { Device = d.Device with { Status = UsbDeviceDrivers.ReadUsbIpStatus(d.Directory) } }).ToList();
            if (watch.Changed())
            {
                // Incomplete, or written meanwhile: this reading is checked per request instead (the bound list).
                watch.Dispose();
                watch = null;
            }
        }
        var previous = _reading;
        var reading = new Reading(devices, bound, generation, Stopwatch.GetTimestamp(), watch);
        Volatile.Write(ref _reading, reading);
        previous?.Watch?.Dispose();
        return reading;
    }

    /// <summary>
    /// Nothing said it changed: no uevent since it was read, its watch (if it has one) saw no write, and without either
    /// the same devices are bound.
    /// </summary>
    private bool IsValid(Reading? reading, bool listening) =>
        reading is not null
        && reading.Generation == Interlocked.Read(ref _generation)
        && (reading.Watch is { } watch ? !watch.Changed() : listening || reading.Bound.SequenceEqual(_sysfs.BoundBusIds()));

    private bool IsOld(Reading reading) => Stopwatch.GetTimestamp() - reading.ReadAt >= _maxAgeTicks;

    public void Dispose()
    {
        _uevents?.Dispose();
        _reading?.Watch?.Dispose();
    }

    /// <param name="Watch">Under -Root, what says the tree is still as read, usbip_status included; null when it cannot.</param>
    private sealed record Reading(IReadOnlyList<ExportedDeviceReading> Devices, IReadOnlyList<UsbBusId> Bound, long Generation, long ReadAt,
        TreeChangeWatch? Watch)
    {
        public IReadOnlyList<ExportedDevice> AsRead { get; } = Devices.Select(d => d.Device).ToList();
    }
}
