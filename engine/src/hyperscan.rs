//! A small safe layer over Vectorscan (Hyperscan's portable fork, built from the bundled source by
//! `vectorscan-rs-sys`): compile one block-mode database, serialize and load it, allocate scratch,
//! and scan. The higher-level `vectorscan-rs` wrapper hides serialization, which the start-up
//! cache needs, so this module talks to the C API directly.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_uint, c_ulonglong, c_void, CStr, CString};
use std::ptr;

use thread_local::ThreadLocal;

use vectorscan_rs_sys as hs;

/// A compiled block-mode database. Immutable; shared by every thread.
pub struct Database {
    ptr: *mut hs::hs_database_t,
}

// SAFETY: a Hyperscan database is read-only after compilation and documented as safe to use
// from many threads at once (each with its own scratch).
unsafe impl Send for Database {}
unsafe impl Sync for Database {}

impl Drop for Database {
    fn drop(&mut self) {
        unsafe {
            hs::hs_free_database(self.ptr);
        }
    }
}

/// Why a compile failed: the message and, when Hyperscan can tell, which expression.
#[derive(Debug)]
pub struct CompileFailure {
    pub message: String,
    pub expression: Option<usize>,
}

impl Database {
    /// Compiles `(expression, flags)` pairs; the id of each is its index.
    pub fn compile(patterns: &[(String, u32)]) -> Result<Self, CompileFailure> {
        let exprs: Vec<CString> = patterns
            .iter()
            .map(|(p, _)| CString::new(p.as_bytes()))
            .collect::<Result<_, _>>()
            .map_err(|_| CompileFailure {
                message: "pattern contains a NUL byte".into(),
                expression: None,
            })?;
        let expr_ptrs: Vec<*const c_char> = exprs.iter().map(|c| c.as_ptr()).collect();
        let flags: Vec<c_uint> = patterns.iter().map(|(_, f)| *f).collect();
        let ids: Vec<c_uint> = (0..patterns.len() as c_uint).collect();
        let mut db = ptr::null_mut();
        let mut err = ptr::null_mut();
        let rc = unsafe {
            hs::hs_compile_multi(
                expr_ptrs.as_ptr(),
                flags.as_ptr(),
                ids.as_ptr(),
                patterns.len() as c_uint,
                hs::HS_MODE_BLOCK,
                ptr::null(),
                &mut db,
                &mut err,
            )
        };
        if rc != hs::HS_SUCCESS as c_int {
            let failure = if err.is_null() {
                CompileFailure {
                    message: format!("error code {rc}"),
                    expression: None,
                }
            } else {
                let (message, expr) = unsafe {
                    let e = &*err;
                    let m = CStr::from_ptr(e.message).to_string_lossy().into_owned();
                    (m, e.expression)
                };
                unsafe {
                    hs::hs_free_compile_error(err);
                }
                CompileFailure {
                    message,
                    expression: usize::try_from(expr).ok(),
                }
            };
            return Err(failure);
        }
        Ok(Database { ptr: db })
    }

    /// The database as bytes, for the start-up cache.
    pub fn serialize(&self) -> Result<Vec<u8>, String> {
        let mut bytes: *mut c_char = ptr::null_mut();
        let mut len = 0usize;
        let rc = unsafe { hs::hs_serialize_database(self.ptr, &mut bytes, &mut len) };
        if rc != hs::HS_SUCCESS as c_int || bytes.is_null() {
            return Err(format!("hs_serialize_database failed ({rc})"));
        }
        let out = unsafe { std::slice::from_raw_parts(bytes as *const u8, len).to_vec() };
        // Hyperscan allocated it with the misc allocator, which defaults to malloc.
        unsafe { libc_free(bytes as *mut c_void) };
        Ok(out)
    }

    /// Loads bytes made by [`Database::serialize`], possibly by another build: Hyperscan
    /// checks the version and platform and refuses what it cannot run.
    pub fn deserialize(bytes: &[u8]) -> Result<Self, String> {
        let mut db = ptr::null_mut();
        let rc = unsafe {
            hs::hs_deserialize_database(bytes.as_ptr() as *const c_char, bytes.len(), &mut db)
        };
        if rc != hs::HS_SUCCESS as c_int || db.is_null() {
            return Err(format!("hs_deserialize_database failed ({rc})"));
        }
        Ok(Database { ptr: db })
    }

    pub fn size(&self) -> usize {
        let mut size = 0usize;
        unsafe {
            hs::hs_database_size(self.ptr, &mut size);
        }
        size
    }
}

extern "C" {
    #[link_name = "free"]
    fn libc_free(p: *mut c_void);
}

/// A database with a scratch per thread, each made on its thread's first scan.
pub struct PerThread {
    db: Database,
    scratch: ThreadLocal<RefCell<Scratch>>,
}

impl PerThread {
    pub fn new(db: Database) -> Self {
        PerThread {
            db,
            scratch: ThreadLocal::new(),
        }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// This thread's scratch for the database, made now if it has none.
    pub fn scratch(&self) -> Result<&RefCell<Scratch>, String> {
        self.scratch
            .get_or_try(|| Scratch::new(&self.db).map(RefCell::new))
    }

    /// [`Scratch::scan`] with this thread's scratch.
    pub fn scan<F: FnMut(u32, usize)>(&self, data: &[u8], on_match: F) -> Result<(), String> {
        self.scratch()?.borrow_mut().scan(&self.db, data, on_match)
    }
}

/// Per-thread scan state. Not shared: each thread allocates its own.
pub struct Scratch {
    ptr: *mut hs::hs_scratch_t,
}

// SAFETY: scratch may move between threads; it is never used by two at once (`&mut self`).
unsafe impl Send for Scratch {}

impl Drop for Scratch {
    fn drop(&mut self) {
        unsafe {
            hs::hs_free_scratch(self.ptr);
        }
    }
}

impl Scratch {
    pub fn new(db: &Database) -> Result<Self, String> {
        let mut ptr = ptr::null_mut();
        let rc = unsafe { hs::hs_alloc_scratch(db.ptr, &mut ptr) };
        if rc != hs::HS_SUCCESS as c_int {
            return Err(format!("hs_alloc_scratch failed ({rc})"));
        }
        Ok(Scratch { ptr })
    }

    /// Scans `data` (at most 4 GiB) and calls `on_match(pattern_id, end)` for every match.
    pub fn scan<F: FnMut(u32, usize)>(
        &mut self,
        db: &Database,
        data: &[u8],
        mut on_match: F,
    ) -> Result<(), String> {
        unsafe extern "C" fn trampoline<F: FnMut(u32, usize)>(
            id: c_uint,
            _from: c_ulonglong,
            to: c_ulonglong,
            _flags: c_uint,
            ctx: *mut c_void,
        ) -> c_int {
            let f = &mut *(ctx as *mut F);
            f(id, to as usize);
            0
        }
        let len = u32::try_from(data.len()).map_err(|_| "input over 4 GiB".to_string())?;
        let rc = unsafe {
            hs::hs_scan(
                db.ptr,
                data.as_ptr() as *const c_char,
                len,
                0,
                self.ptr,
                Some(trampoline::<F>),
                &mut on_match as *mut F as *mut c_void,
            )
        };
        if rc != hs::HS_SUCCESS as c_int {
            return Err(format!("hs_scan failed ({rc})"));
        }
        Ok(())
    }
}
