using System.Globalization;
using System.Text;
using System.Threading.Channels;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Server;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// A small sysfs tree that changes the way the kernel changes it when a device is plugged, bound to usbip-host,
/// unbound, reconfigured or unplugged: relative links from /sys/bus/usb/devices and the driver folder to
/// /sys/devices/pci0000:00/0000:00:14.0/usbB/BUSID, as sysfs has them. Plus the uevent the kernel sends for each.
/// </summary>
internal sealed class DeviceListTree : IDisposable
{
    public const string HostController = "/sys/devices/pci0000:00/0000:00:14.0";
    public const string DriverPath = "/sys/bus/usb/drivers/usbip-host";

    public DeviceListTree() => Tree = new TemporaryTree("devlist").Directory(DriverPath).File(DriverPath + "/match_busid", "");

    public TemporaryTree Tree { get; }

    public SystemRoot Root => new(Tree.Path);

    public static string DevicePath(string busId) => $"{HostController}/usb{busId[..busId.IndexOf('-')]}/{busId}";

    /// <summary>A mass-storage device with one interface, on the usb driver (not exported).</summary>
    public DeviceListTree Plug(string busId, int deviceNumber = 2, string product = "0001")
    {
        var path = DevicePath(busId);
        var bus = busId[..busId.IndexOf('-')];
        foreach (var (name, value) in new[]
        {
            ("busnum", bus), ("devnum", deviceNumber.ToString(CultureInfo.InvariantCulture)), ("speed", "480"),
            ("idVendor", "46f4"), ("idProduct", product), ("bcdDevice", "0000"), ("bDeviceClass", "00"),
            ("bDeviceSubClass", "00"), ("bDeviceProtocol", "00"), ("bConfigurationValue", "1"),
            ("bNumConfigurations", "1"), ("bNumInterfaces", " 1"),
        })
            Tree.File($"{path}/{name}", value);
        Interface(busId, "1.0", "08");
        Tree.Link($"{path}/driver", "../../../../../bus/usb/drivers/usb");
        Tree.Link($"/sys/bus/usb/devices/{busId}", "../../.." + path["/sys".Length..]);
        return this;
    }

    public DeviceListTree Interface(string busId, string configAndNumber, string classCode)
    {
        var dir = $"{DevicePath(busId)}/{busId}:{configAndNumber}";
        Tree.File($"{dir}/bInterfaceClass", classCode).File($"{dir}/bInterfaceSubClass", "06").File($"{dir}/bInterfaceProtocol", "50")
            .File($"{dir}/bInterfaceNumber", configAndNumber[(configAndNumber.IndexOf('.') + 1)..].PadLeft(2, '0'));
        return this;
    }

    /// <summary>What usbip-host's probe leaves: its driver link, the device in its folder, usbip_status.</summary>
    public DeviceListTree Bind(string busId, string status = "1")
    {
        var path = DevicePath(busId);
        File.Delete(Tree.Resolve($"{path}/driver"));
        Tree.Link($"{path}/driver", "../../../../../bus/usb/drivers/usbip-host");
        Tree.Link($"{DriverPath}/{busId}", "../../../../devices" + path["/sys/devices".Length..]);
        Tree.File($"{path}/usbip_status", status);
        return this;
    }

    public DeviceListTree Unbind(string busId)
    {
        var path = DevicePath(busId);
        File.Delete(Tree.Resolve($"{DriverPath}/{busId}"));
        File.Delete(Tree.Resolve($"{path}/driver"));
        File.Delete(Tree.Resolve($"{path}/usbip_status"));
        return this;
    }

    public DeviceListTree Unplug(string busId)
    {
        var link = Tree.Resolve($"{DriverPath}/{busId}");
        if (File.Exists(link) || new FileInfo(link).LinkTarget is not null) File.Delete(link);
        File.Delete(Tree.Resolve($"/sys/bus/usb/devices/{busId}"));
        Directory.Delete(Tree.Resolve(DevicePath(busId)), recursive: true);
        return this;
    }

    public DeviceListTree Set(string busId, string attribute, string value)
    {
        Tree.File($"{DevicePath(busId)}/{attribute}", value);
        return this;
    }

    /// <summary>The datagram the kernel sends: "action@devpath\0ACTION=..\0DEVPATH=..\0SUBSYSTEM=..\0..." (devpath without /sys).</summary>
    public static byte[] Uevent(string action, string systemPath, string subsystem, params string[] more)
    {
        var devPath = systemPath["/sys".Length..];
        var fields = new[] { $"{action}@{devPath}", $"ACTION={action}", $"DEVPATH={devPath}", $"SUBSYSTEM={subsystem}" }
            .Concat(more).Append("SEQNUM=4242");
        return Encoding.UTF8.GetBytes(string.Join('\0', fields) + "\0");
    }

    public static byte[] UsbDeviceUevent(string action, string busId, params string[] more) =>
        Uevent(action, DevicePath(busId), "usb", more.Prepend("DEVTYPE=usb_device").ToArray());

    /// <summary>Every field of every record and its status, one line per device: two lists are the same when this is.</summary>
    public static string Describe(IEnumerable<ExportedDevice> devices) => string.Join("\n", devices.Select(d =>
    {
        var r = d.Record;
        var interfaces = string.Join(",", r.Interfaces.Select(i => $"{i.Class:x2}{i.SubClass:x2}{i.Protocol:x2}"));
        return $"{r.BusId} {r.Path} {r.BusNumber} {r.DeviceNumber} {r.Speed} {r.VendorId:x4}:{r.ProductId:x4} {r.BcdDevice:x4} " +
            $"{r.DeviceClass:x2}{r.DeviceSubClass:x2}{r.DeviceProtocol:x2} c{r.ConfigurationValue}/{r.NumConfigurations} i{r.NumInterfaces}[{interfaces}] {d.Status}";
    }));

    public string Fresh() => Describe(new SysfsExportedDeviceSource(Root).ReadExportedDevices());

    public void Dispose() => Tree.Dispose();
}

/// <summary>
/// Synthetic uevents for the listener: datagrams the test writes are received in order. <see cref="WaitHandledAsync"/>
/// returns once the listener has handled every datagram written so far (it has asked for the next one).
/// </summary>
internal sealed class FakeUeventChannel : IUeventChannel
{
    private readonly Channel<byte[]?> _datagrams = Channel.CreateUnbounded<byte[]?>();
    private int _written, _delivered, _askedAfter = -1;

    public bool IsDisposed { get; private set; }

    public void Send(byte[] datagram) { Interlocked.Increment(ref _written); _datagrams.Writer.TryWrite(datagram); }

    /// <summary>The kernel dropped datagrams (ENOBUFS).</summary>
    public void Overflow() { Interlocked.Increment(ref _written); _datagrams.Writer.TryWrite(null); }

    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation)
    {
        // The listener asks for the next datagram only once it has handled the one before.
        Volatile.Write(ref _askedAfter, Volatile.Read(ref _delivered));
        var datagram = await _datagrams.Reader.ReadAsync(cancellation);
        Interlocked.Increment(ref _delivered);
        if (datagram is null) return UeventChannel.Overflow;
        var length = Math.Min(datagram.Length, buffer.Length);
        datagram.AsSpan(0, length).CopyTo(buffer.Span);
        return length;
    }

    /// <summary>Waits (bounded) until the listener has handled every datagram sent and asks for the next one.</summary>
    public async Task WaitHandledAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (Volatile.Read(ref _askedAfter) != Volatile.Read(ref _written))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The listener did not handle the uevents within 20 s.");
            await Task.Delay(5);
        }
    }

    public void Dispose() => IsDisposed = true;
}
