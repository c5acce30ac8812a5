; Inno Setup 6 script: a Windows installer for the Hallmark desktop app.
; Not run in CI; the steps are in docs/packaging.md. Build the bundle on Windows first
; (dist\hallmark\ with hallmark.exe and hallmark-gui.exe), then, from the repository root:
;   iscc /DAppVersion=0.1.0 packaging\windows\hallmark.iss
; Output: dist\hallmark-VERSION-windows-x64-setup.exe

#ifndef AppVersion
  #error Pass the version from pyproject.toml: iscc /DAppVersion=X.Y.Z hallmark.iss
#endif

[Setup]
; AppId identifies the app for upgrades and uninstall: never change it.
AppId={{3FF70C0C-268A-4D9E-8FC3-81B20FEED4E6}
AppName=Hallmark
AppVersion={#AppVersion}
AppPublisher=Hallmark
DefaultDirName={autopf}\Hallmark
DefaultGroupName=Hallmark
DisableProgramGroupPage=yes
; Per-user install by default (no administrator needed); the user may choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=hallmark-{#AppVersion}-windows-x64-setup
UninstallDisplayIcon={app}\hallmark-gui.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\..\dist\hallmark\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Hallmark"; Filename: "{app}\hallmark-gui.exe"
Name: "{autodesktop}\Hallmark"; Filename: "{app}\hallmark-gui.exe"; Tasks: desktopicon

[Run]
; Compile the Numba kernels into the installing user's cache (%LOCALAPPDATA%) now, so the
; first verification is fast, and stop with an error if the bundle cannot fingerprint.
Filename: "{app}\hallmark.exe"; Parameters: "selftest"; StatusMsg: "Checking Hallmark and compiling its kernels (about a minute)..."; Flags: runhidden waituntilterminated runasoriginaluser
Filename: "{app}\hallmark-gui.exe"; Description: "{cm:LaunchProgram,Hallmark}"; Flags: nowait postinstall skipifsilent runasoriginaluser

[UninstallDelete]
; Numba's compiled kernels (platformdirs user cache); the user's keys and ledger stay.
Type: filesandordirs; Name: "{localappdata}\hallmark\hallmark\Cache\numba"
