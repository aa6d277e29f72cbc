using VirtTools.Sandbox;

namespace VirtTools.Sysfs;

/// <summary>
/// The filesystem root that /sys, /proc, /dev, /run, /etc and the ids databases are read under.
/// Every path the engine touches goes through <see cref="Resolve"/>, so the same code runs on the live
/// machine ("/") and on a captured or synthetic tree.
/// </summary>
public sealed class SystemRoot : IEquatable<SystemRoot>
{
    /// <summary>The environment variable that supplies the default root.</summary>
    public const string EnvironmentVariable = "VIRTTOOLS_ROOT";

    public static SystemRoot Live { get; } = new("/");

    public SystemRoot(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("A root path is required.", nameof(path));
        var full = System.IO.Path.GetFullPath(path);
        Path = full.Length > 1 ? full.TrimEnd('/') : full;
    }

    /// <summary>The absolute path of the root ("/" for the live machine).</summary>
    public string Path { get; }

    public bool IsLive => Path == "/";

    /// <summary>The explicit root if given, else $VIRTTOOLS_ROOT, else "/".</summary>
    public static SystemRoot FromParameter(string? root)
    {
        if (!string.IsNullOrEmpty(root)) return new SystemRoot(root);
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrEmpty(fromEnvironment) ? Live : new SystemRoot(fromEnvironment);
    }

    /// <summary>Maps an absolute system path ("/sys/bus/usb") to its place under this root.</summary>
    public string Resolve(string absolutePath)
    {
        if (IsLive) return absolutePath;
        return Path + "/" + absolutePath.TrimStart('/');
    }

    /// <summary>
    /// Where a write to <paramref name="absolutePath"/> lands: on the live root the path itself (the kernel resolves
    /// it, as before); under any other root the path resolved inside the root by <see cref="RootConfinement"/>, which
    /// refuses one whose symlinks lead outside (<see cref="RootConfinement.PathOutsideRootId"/>).
    /// </summary>
    public string ResolveForWrite(string absolutePath) => IsLive ? absolutePath : RootConfinement.Resolve(Path, absolutePath);

    /// <summary>Maps a path under this root back to the system path it stands for ("/sys/...").</summary>
    public string ToSystemPath(string resolvedPath)
    {
        if (IsLive) return resolvedPath;
        return resolvedPath.StartsWith(Path + "/", StringComparison.Ordinal) ? resolvedPath[Path.Length..] : resolvedPath;
    }

    /// <summary>
    /// The writer every kernel-attribute write under this root goes through: the sandbox's kernel when the root is a
    /// sandbox (its top holds <see cref="SandboxMarker.FileName"/>; never the live root), else the real file writer.
    /// </summary>
    public IKernelWriter Writer => (IKernelWriter?)SandboxKernel.For(this) ?? new FileKernelWriter(this);

    /// <summary>
    /// The usbfs calls on /dev/bus/usb nodes under this root (claiming hub ports): the sandbox's model of them when the
    /// root is a sandbox, else open(2) and ioctl(2) on the node under the root.
    /// </summary>
    public Usb.IUsbFs UsbFs => (Usb.IUsbFs?)SandboxKernel.For(this)?.HubPorts ?? new Usb.LinuxUsbFs(this);

    public SysfsDirectory Directory(string absolutePath) => new(Resolve(absolutePath));

    public bool Exists(string absolutePath)
    {
        var p = Resolve(absolutePath);
        return File.Exists(p) || System.IO.Directory.Exists(p);
    }

    /// <summary>Reads a whole text file under the root; null when it is missing or unreadable.</summary>
    public string? ReadText(string absolutePath) => SysfsText.ReadFile(Resolve(absolutePath));

    public bool Equals(SystemRoot? other) => other is not null && other.Path == Path;
    public override bool Equals(object? obj) => Equals(obj as SystemRoot);
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Path);
    public override string ToString() => Path;
}
