using VirtTools.Sysfs;

namespace VirtTools.Sandbox;

/// <summary>
/// A fake kernel behind a sandbox tree, in the spirit of libvirt's tests/virpcimock.c: the <see cref="IKernelWriter"/>
/// of every <see cref="SystemRoot"/> whose top holds a sandbox marker (<see cref="SandboxMarker"/>), it applies what
/// the kernel would do on each attribute write — moving driver links, creating /dev/vfio nodes, updating usbip and
/// vhci status and KSM's counters — and fails with the errno the kernel would give. Readers then see the result as
/// plain files and symlinks, exactly as they read real sysfs. Writes it does not model go to the file as on a captured
/// tree (and fail with ENOENT when there is none); no write ever lands outside the sandbox.
/// </summary>
/// <remarks>
/// Like a real kernel, it keeps some state only in memory (dynamic ids, usbip busid entries, armed failures): one
/// instance per sandbox per process holds it, found through <see cref="For"/>. The tree itself is the shared truth, so
/// another process writing to the same sandbox sees every link and file this one made.
/// </remarks>
public sealed class SandboxKernel : IKernelWriter
{
    private readonly object _sync = new();
    private readonly List<KernelWrite> _writes = new();
    private readonly List<InjectedFailure> _failures = new();

    private SandboxKernel(SystemRoot root)
    {
        Root = root;
        Pci = new SandboxPciBus(this);
        HubPorts = new SandboxHubPorts(this);
        Usb = new SandboxUsbIp(this);
        Ksm = new SandboxKsm(this);
    }

    /// <summary>
    /// The kernel of the sandbox at <paramref name="root"/>, or null when the root is not a sandbox (the live root
    /// never is). The same instance for the same sandbox for the life of the process.
    /// </summary>
    public static SandboxKernel? For(SystemRoot root)
    {
        if (root.IsLive || SandboxMarker.TryRead(root.Path) is not { } marker) return null;
        lock (Open)
        {
            if (Open.TryGetValue(root.Path, out var known) && known.Id == marker.Id) return known.Kernel;
            var kernel = new SandboxKernel(root);
            Open[root.Path] = (marker.Id, kernel);
            return kernel;
        }
    }

    /// <summary>Forgets the in-memory state of the sandbox at <paramref name="rootPath"/> (it was removed).</summary>
    internal static void Forget(string rootPath)
    {
        lock (Open) Open.Remove(rootPath);
    }

    /// <summary>Sandboxes this process has written to or built, by root path, with the marker id they were opened with.</summary>
    private static readonly Dictionary<string, (Guid Id, SandboxKernel Kernel)> Open = new(StringComparer.Ordinal);

    public SystemRoot Root { get; }

    /// <summary>The PCI bus: driver binding, driver_override, new_id, vfio-pci groups; builders for synthetic topologies.</summary>
    public SandboxPciBus Pci { get; }

    /// <summary>Hub port owners (USBDEVFS_CLAIM_PORT): the sandbox's usbfs.</summary>
    public SandboxHubPorts HubPorts { get; }

    /// <summary>usbip-host and vhci_hcd; builders for synthetic topologies.</summary>
    public SandboxUsbIp Usb { get; }

    /// <summary>KSM: run, the scan knobs and the stable-tree knobs, with its page counters.</summary>
    public SandboxKsm Ksm { get; }

    /// <summary>The lock every write is applied under; a plug or unplug takes it too, as the hub holds the device lock.</summary>
    internal object Gate => _sync;

    /// <summary>Every write the engine attempted, in order, failed ones included.</summary>
    public IReadOnlyList<KernelWrite> Writes
    {
        get { lock (_sync) return _writes.ToList(); }
    }

    /// <summary>
    /// Makes the <paramref name="nth"/> write (1 = the next one) to <paramref name="systemPath"/> fail with
    /// <paramref name="errno"/>, changing nothing: how a test reaches the error paths a healthy tree never takes.
    /// </summary>
    public SandboxKernel FailWrite(string systemPath, KernelErrno errno, int nth = 1)
    {
        if (nth < 1) throw new ArgumentOutOfRangeException(nameof(nth));
        lock (_sync) _failures.Add(new InjectedFailure(systemPath, errno, CountOf(systemPath) + nth));
        return this;
    }

    /// <summary>Records the write, fails it if a failure was armed for it, else applies the kernel's semantics.</summary>
    public void Write(string systemPath, string text)
    {
        if (Record(systemPath, text) is { } injected) throw injected;
        lock (_sync) Apply(systemPath, text);
    }

    /// <summary>Adds the write to <see cref="Writes"/>; the failure armed for it, if any.</summary>
    private Exception? Record(string systemPath, string text)
    {
        lock (_sync)
        {
            _writes.Add(new KernelWrite(systemPath, text));
            int ordinal = CountOf(systemPath);
            var armed = _failures.FirstOrDefault(f => f.SystemPath == systemPath && f.Ordinal == ordinal);
            return armed is null ? null : Errno(armed.Errno, $"injected failure of write {ordinal} to {systemPath}");
        }
    }

    /// <summary>What the kernel does with the write: a bus or KSM takes it, else it lands in the file.</summary>
    private void Apply(string systemPath, string text)
    {
        RequireInside(systemPath);
        if (Pci.TryWrite(systemPath, text) || Usb.TryWrite(systemPath, text) || Ksm.TryWrite(systemPath, text)) return;
        new FileKernelWriter(Root).Write(systemPath, text);
    }

    private int CountOf(string systemPath) => _writes.Count(w => w.SystemPath == systemPath);

    /// <summary>The exception .NET raises when write(2) fails with <paramref name="errno"/>.</summary>
    internal static Exception Errno(KernelErrno errno, string what) => errno switch
    {
        KernelErrno.EPERM or KernelErrno.EACCES => new UnauthorizedAccessException($"Access to the path is denied ({what})."),
        KernelErrno.ENOENT => new FileNotFoundException($"No such file or directory ({what})."),
        _ => new IOException($"{errno} ({what})", (int)errno),
    };

    // --- tree helpers shared by the buses ---

    internal string Resolve(string systemPath) => Root.Resolve(systemPath);

    /// <summary>
    /// A write follows the symlinks on its way as the kernel's open(2) would; one that would leave the sandbox (an
    /// absolute link in a captured tree, a link climbing out) is refused with EACCES instead of touching the host.
    /// </summary>
    private void RequireInside(string systemPath)
    {
        if (SandboxPaths.RealPath(Root.Path, systemPath) is null) throw Errno(KernelErrno.EACCES, $"{systemPath} leads outside the sandbox {Root.Path}");
    }

    /// <summary>
    /// <paramref name="realPath"/> (a path under the root, as links resolve to) when its folder is really inside the
    /// sandbox; EACCES otherwise. Every file the kernel model changes goes through here.
    /// </summary>
    internal string Inside(string realPath)
    {
        var prefix = Root.Path + "/";
        if (!realPath.StartsWith(prefix, StringComparison.Ordinal)
            || SandboxPaths.RealPath(Root.Path, Path.GetDirectoryName(realPath[Root.Path.Length..])!) is null)
            throw Errno(KernelErrno.EACCES, $"{realPath} is outside the sandbox {Root.Path}");
        return realPath;
    }

    /// <summary>A control attribute's target must exist, as on sysfs where open(2) of a missing attribute fails.</summary>
    internal void RequireAttribute(string systemPath)
    {
        if (!File.Exists(Resolve(systemPath))) throw Errno(KernelErrno.ENOENT, systemPath);
    }

    /// <summary>Writes a kernel-owned value file (what a read shows), creating it when the kernel would.</summary>
    internal void Show(string systemPath, string content)
    {
        var path = Inside(Resolve(systemPath));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>
    /// A line the kernel logs (printk level 3, an error), appended to the tree's dev/kmsg in its record format when the
    /// tree has one: the sandbox's refusals leave the evidence the real kernel leaves, for errors that quote it.
    /// </summary>
    internal void LogError(string message)
    {
        var kmsg = Resolve(Diagnostics.KernelLog.DevicePath);
        if (!File.Exists(kmsg)) return;
        var sequence = Interlocked.Increment(ref _logSequence);
        File.AppendAllText(Inside(kmsg), string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"3,{sequence},{Environment.TickCount64 * 1000},-;{message}\n"));
    }

    private long _logSequence = 1_000_000;

    /// <summary>An empty write-only control file (bind, unbind, attach...).</summary>
    internal void Control(string systemPath)
    {
        if (!File.Exists(Resolve(systemPath))) Show(systemPath, "");
    }

    /// <summary>Points <paramref name="linkPath"/> (a real path) at <paramref name="targetPath"/> (a real path) relatively, as sysfs links are.</summary>
    internal void Link(string linkPath, string targetPath)
    {
        Unlink(linkPath);
        Directory.CreateDirectory(Path.GetDirectoryName(linkPath)!);
        File.CreateSymbolicLink(linkPath, Path.GetRelativePath(Path.GetDirectoryName(linkPath)!, targetPath));
    }

    internal void Unlink(string linkPath)
    {
        if (new FileInfo(Inside(linkPath)).LinkTarget is not null || File.Exists(linkPath)) File.Delete(linkPath);
    }

    /// <summary>The value as the kernel's sysfs_streq sees it: one trailing newline ignored.</summary>
    internal static string Token(string text) => text.EndsWith('\n') ? text[..^1] : text;

    private sealed record InjectedFailure(string SystemPath, KernelErrno Errno, int Ordinal);
}
