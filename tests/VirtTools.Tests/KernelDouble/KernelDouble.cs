using VirtTools.Sysfs;
using VirtTools.Tests.Support;

namespace VirtTools.Tests.KernelDouble;

/// <summary>
/// A fake kernel behind a fake tree, in the spirit of libvirt's tests/virpcimock.c: registered as the
/// <see cref="IKernelWriter"/> of its root, it applies what the kernel would do on each attribute write — moving
/// driver links, creating /dev/vfio nodes, updating usbip and vhci status — and fails with the errno the kernel
/// would give. Readers then see the result as plain files and symlinks, exactly as they read real sysfs.
/// Writes it does not model go to the file as on a captured tree (and fail with ENOENT when there is none).
/// </summary>
public sealed class KernelDouble : IKernelWriter, IDisposable
{
    private readonly IDisposable _registration;
    private readonly bool _ownsTree;
    private readonly List<KernelWrite> _writes = new();
    private readonly List<InjectedFailure> _failures = new();

    /// <summary>Puts the double behind an existing tree (a fixture copy or a synthetic tree).</summary>
    public KernelDouble(TemporaryTree tree) : this(tree, ownsTree: false) { }

    private KernelDouble(TemporaryTree tree, bool ownsTree)
    {
        Tree = tree;
        _ownsTree = ownsTree;
        Root = new SystemRoot(tree.Path);
        Pci = new PciBusDouble(this);
        Usb = new UsbIpDouble(this);
        _registration = SystemRoot.UseWriter(tree.Path, this);
    }

    /// <summary>A private copy of the captured Debian 6.1 tree with the kernel's write semantics on top; disposing deletes it.</summary>
    public static KernelDouble OnCapturedFixture() => new(CapturedFixture.CreateCopy(), ownsTree: true);

    /// <summary>An empty synthetic tree to build a topology in with <see cref="Pci"/> and <see cref="Usb"/>.</summary>
    public static KernelDouble OnEmptyTree() => new(new TemporaryTree("kernel-double"), ownsTree: true);

    public TemporaryTree Tree { get; }

    public SystemRoot Root { get; }

    /// <summary>The path to give -Root or $env:VIRTTOOLS_ROOT.</summary>
    public string RootPath => Tree.Path;

    public PciBusDouble Pci { get; }

    public UsbIpDouble Usb { get; }

    /// <summary>Every write the engine attempted, in order, failed ones included.</summary>
    public IReadOnlyList<KernelWrite> Writes => _writes;

    /// <summary>Makes the <paramref name="nth"/> write (1 = the next one) to <paramref name="systemPath"/> fail with <paramref name="errno"/>, changing nothing.</summary>
    public KernelDouble FailWrite(string systemPath, KernelErrno errno, int nth = 1)
    {
        if (nth < 1) throw new ArgumentOutOfRangeException(nameof(nth));
        _failures.Add(new InjectedFailure(systemPath, errno, _writes.Count(w => w.SystemPath == systemPath) + nth));
        return this;
    }

    public void Write(string systemPath, string text)
    {
        _writes.Add(new KernelWrite(systemPath, text));
        int ordinal = _writes.Count(w => w.SystemPath == systemPath);
        var injected = _failures.FirstOrDefault(f => f.SystemPath == systemPath && f.Ordinal == ordinal);
        if (injected is not null) throw Errno(injected.Errno, $"injected failure of write {ordinal} to {systemPath}");

        if (Pci.TryWrite(systemPath, text) || Usb.TryWrite(systemPath, text)) return;
        new FileKernelWriter(Root).Write(systemPath, text);
    }

    /// <summary>The exception .NET raises when write(2) fails with <paramref name="errno"/>.</summary>
    public static Exception Errno(KernelErrno errno, string what) => errno switch
    {
        KernelErrno.EPERM or KernelErrno.EACCES => new UnauthorizedAccessException($"Access to the path is denied ({what})."),
        KernelErrno.ENOENT => new FileNotFoundException($"No such file or directory ({what})."),
        _ => new IOException($"{errno} ({what})", (int)errno),
    };

    // --- tree helpers shared by the bus doubles ---

    internal string Resolve(string systemPath) => Tree.Resolve(systemPath);

    /// <summary>A control attribute's target must exist, as on sysfs where open(2) of a missing attribute fails.</summary>
    internal void RequireAttribute(string systemPath)
    {
        if (!File.Exists(Resolve(systemPath))) throw Errno(KernelErrno.ENOENT, systemPath);
    }

    /// <summary>Writes a kernel-owned value file (what a read shows), creating it when the kernel would.</summary>
    internal void Show(string systemPath, string content)
    {
        var path = Resolve(systemPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>An empty write-only control file (bind, unbind, attach...).</summary>
    internal void Control(string systemPath)
    {
        if (!File.Exists(Resolve(systemPath))) Show(systemPath, "");
    }

    /// <summary>Points <paramref name="linkPath"/> (a real path) at <paramref name="targetPath"/> (a real path) relatively, as sysfs links are.</summary>
    internal static void Link(string linkPath, string targetPath)
    {
        Unlink(linkPath);
        Directory.CreateDirectory(Path.GetDirectoryName(linkPath)!);
        File.CreateSymbolicLink(linkPath, Path.GetRelativePath(Path.GetDirectoryName(linkPath)!, targetPath));
    }

    internal static void Unlink(string linkPath)
    {
        if (new FileInfo(linkPath).LinkTarget is not null || File.Exists(linkPath)) File.Delete(linkPath);
    }

    /// <summary>The value as the kernel's sysfs_streq sees it: one trailing newline ignored.</summary>
    internal static string Token(string text) => text.EndsWith('\n') ? text[..^1] : text;

    public void Dispose()
    {
        _registration.Dispose();
        if (_ownsTree) Tree.Dispose();
    }

    private sealed record InjectedFailure(string SystemPath, KernelErrno Errno, int Ordinal);
}

/// <summary>One write the engine made: the attribute and the exact text.</summary>
public sealed record KernelWrite(string SystemPath, string Text);
